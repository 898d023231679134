# Die Seiten des Gateways auf Deutsch.

## Jede Seite

site-name = Installgate
about-this-app = Über diese App
link-help = Hilfe
link-privacy = Datenschutz
link-terms = Nutzungsbedingungen
logo-alt = Logo von { $name }
the-vendor = dem Anbieter

## Anmelden und registrieren

purpose-sign-in-install = Melden Sie sich an, um die Installation von { $app } aus { $marketplace } fortzusetzen.
purpose-sign-in = Melden Sie sich an, um Ihre Marktplatz-Verbindungen zu verwalten.
purpose-sign-up-install = Erstellen Sie ein Konto, um die Installation von { $app } aus { $marketplace } fortzusetzen.
purpose-sign-up = Erstellen Sie ein Konto, um Ihre Marktplatz-Verbindungen zu verwalten.
sign-in-title = Anmelden
field-email = E-Mail
field-password = Passwort
sign-in-submit = Anmelden
no-account-yet = Noch kein Konto?
to-sign-up = Registrieren
sign-in-refused = Die E-Mail-Adresse oder das Passwort ist nicht richtig.
sign-up-title = Registrieren
sign-up-heading = Konto erstellen
field-new-password = Passwort (mindestens { $min } Zeichen)
sign-up-submit = Konto erstellen
have-an-account = Sie haben bereits ein Konto?
to-sign-in = Anmelden
email-taken = Zu dieser E-Mail-Adresse gibt es bereits ein Konto: Bitte melden Sie sich an.
email-invalid = Geben Sie eine E-Mail-Adresse wie name@example.com ein.
password-too-short = Wählen Sie ein Passwort mit mindestens { $min } Zeichen.
password-too-long = Wählen Sie ein Passwort mit höchstens { $max } Zeichen.
account-needed-title = Ein Konto ist erforderlich
account-needed-text = Um { $app } zu installieren, benötigen Sie zuerst ein Konto bei { $vendor }.
account-needed-get = Konto bei { $vendor } erhalten
account-needed-continue = um die Installation fortzusetzen.

## Die Kontoseite

account-title = Ihr Konto
account-heading = Angemeldet
account-signed-in-as = Sie sind angemeldet als { $who }.
account-connections = Marktplatz-Verbindungen
account-no-connections = Noch keine. Installieren Sie die App aus einem Marktplatz, um sie zu verbinden.
account-connection = { $app } auf { $marketplace } (Konto { $account }): { $status }
sign-out = Abmelden
signed-out-title = Abgemeldet
signed-out-text = Sie sind abgemeldet.
signed-out-hint = Sie können dieses Fenster schließen oder sich über den Marktplatz erneut anmelden.

## Installieren

install-failed-title = Installation nicht abgeschlossen
install-failed-heading = Die Installation wurde nicht abgeschlossen
install-failed-reported = { $marketplace } meldete:
install-failed-hint = Es wurde nichts gespeichert. Sie können dieses Fenster schließen oder die Installation in { $marketplace } erneut starten.
confirm-title = Verbindung bestätigen
confirm-heading = { $marketplace } verbinden?
confirm-text = { $marketplace }-{ $kind } { $name } mit Ihrem Konto { $account } verbinden?
confirm-text-user = { $marketplace }-{ $kind } { $name } (Benutzer { $user }) mit Ihrem Konto { $account } verbinden?
confirm-connect = Verbinden
confirm-cancel = Abbrechen
try-again-title = Bitte versuchen Sie es gleich noch einmal
try-again-text = Wir konnten Ihr Abonnement gerade nicht bestätigen, daher wurde noch nichts installiert.
try-again-hint = Versuchen Sie es in ein paar Minuten erneut über den Marktplatz.
cancelled-title = Installation abgebrochen
cancelled-text = Die Installation wurde abgebrochen, es wurde nichts verbunden.
cancelled-hint = Sie können diesen Tab schließen oder die Installation in { $marketplace } erneut starten.
already-connected-title = Bereits verbunden
already-connected-text = Dieses { $marketplace }-Konto ist bereits mit einem anderen Konto verbunden und bleibt es.
already-connected-hint = Melden Sie sich mit dem verbundenen Konto an, oder bitten Sie dessen Inhaber, die Verbindung zuerst zu trennen.

## Arbeitsbereich wählen

workspace-title = Arbeitsbereich wählen
workspace-text = Wo soll { $app } aus { $marketplace } installiert werden?
workspace-legend = Arbeitsbereich
workspace-submit = Hier installieren
move-title = Verbindung verschieben?
move-text = Dieses { $marketplace }-Konto ist mit dem Arbeitsbereich { $from } verbunden. In { $to } verschieben?
move-confirm = Verschieben
move-cancel = Dort lassen

## Fehler

error-bad-request = Diese Anfrage kann nicht bearbeitet werden
error-not-found = Seite nicht gefunden
error-unauthorized = Nicht angemeldet
error-forbidden = Nicht erlaubt
error-too-many = Zu viele Versuche
error-not-now = Derzeit nicht möglich
error-marketplace = Der Marktplatz hat nicht wie erwartet geantwortet
error-unavailable = Vorübergehend nicht verfügbar
error-install-unfinished = Die Installation wurde nicht beendet
error-unexpected = Etwas ist schiefgelaufen
detail-not-found = Unter dieser Adresse gibt es nichts.
detail-too-many = Es gab zu viele Versuche.
detail-method = Diese Adresse nimmt diese Methode nicht an.
detail-marketplace = Der Marktplatz hat die Tokens nicht erneuert.
detail-too-large = Die Anfrage ist zu groß.
detail-unavailable = Ein Dienst, den das Gateway braucht, antwortet nicht.
detail-unexpected = Bei uns ist etwas schiefgelaufen.
hint-unavailable = Es wurde nichts geändert. Bitte versuchen Sie es in einer Minute erneut.
hint-too-many = Bitte warten Sie eine Weile und versuchen Sie es dann erneut.
hint-forbidden = Laden Sie die Seite, von der Sie kamen, neu und versuchen Sie es erneut.
hint-unexpected = Es wurde nichts geändert. Bitte versuchen Sie es erneut; falls es weiter auftritt, wenden Sie sich an den Support der App.
hint-not-found = Prüfen Sie die Adresse oder beginnen Sie erneut im Marktplatz.
hint-start-again = Beginnen Sie erneut im Marktplatz oder auf der Einstellungsseite der App.
