# Les pages de la passerelle en français.

## Chaque page

site-name = Installgate
about-this-app = À propos de cette application
link-help = Aide
link-privacy = Confidentialité
link-terms = Conditions
logo-alt = Logo de { $name }
the-vendor = l’éditeur

## Connexion et inscription

purpose-sign-in-install = Connectez-vous pour poursuivre l’installation de { $app } depuis { $marketplace }.
purpose-sign-in = Connectez-vous pour gérer vos connexions aux places de marché.
purpose-sign-up-install = Créez un compte pour poursuivre l’installation de { $app } depuis { $marketplace }.
purpose-sign-up = Créez un compte pour gérer vos connexions aux places de marché.
sign-in-title = Connexion
field-email = E-mail
field-password = Mot de passe
sign-in-submit = Se connecter
no-account-yet = Pas encore de compte ?
to-sign-up = S’inscrire
sign-in-refused = L’adresse e-mail ou le mot de passe est incorrect.
sign-up-title = Inscription
sign-up-heading = Créer un compte
field-new-password = Mot de passe ({ $min } caractères ou plus)
sign-up-submit = Créer le compte
have-an-account = Vous avez déjà un compte ?
to-sign-in = Se connecter
email-taken = Un compte existe déjà avec cette adresse e-mail : connectez-vous plutôt.
email-invalid = Saisissez une adresse e-mail comme nom@example.com.
password-too-short = Choisissez un mot de passe d’au moins { $min } caractères.
password-too-long = Choisissez un mot de passe d’au plus { $max } caractères.
account-needed-title = Un compte est nécessaire
account-needed-text = Pour installer { $app }, vous devez d’abord avoir un compte chez { $vendor }.
account-needed-get = Obtenir un compte chez { $vendor }
account-needed-continue = pour poursuivre l’installation.

## La page du compte

account-title = Votre compte
account-heading = Connecté
account-signed-in-as = Vous êtes connecté en tant que { $who }.
account-connections = Connexions aux places de marché
account-no-connections = Aucune pour l’instant. Installez l’application depuis une place de marché pour la connecter.
account-connection = { $app } sur { $marketplace } (compte { $account }) : { $status }
sign-out = Se déconnecter
signed-out-title = Déconnecté
signed-out-text = Vous êtes déconnecté.
signed-out-hint = Vous pouvez fermer cette fenêtre, ou vous reconnecter depuis la place de marché.

## Installation

install-failed-title = Installation non terminée
install-failed-heading = L’installation n’a pas été terminée
install-failed-reported = { $marketplace } a signalé :
install-failed-hint = Rien n’a été enregistré. Vous pouvez fermer cette fenêtre, ou relancer l’installation depuis { $marketplace }.
confirm-title = Confirmer la connexion
confirm-heading = Connecter { $marketplace } ?
confirm-text = Connecter { $kind } { $marketplace } { $name } à votre compte { $account } ?
confirm-text-user = Connecter { $kind } { $marketplace } { $name } (utilisateur { $user }) à votre compte { $account } ?
confirm-connect = Connecter
confirm-cancel = Annuler
try-again-title = Veuillez réessayer dans un instant
try-again-text = Nous n’avons pas pu confirmer votre abonnement pour le moment, rien n’a donc encore été installé.
try-again-hint = Réessayez dans quelques minutes depuis la place de marché.
cancelled-title = Installation annulée
cancelled-text = L’installation a été annulée et rien n’a été connecté.
cancelled-hint = Vous pouvez fermer cet onglet, ou relancer l’installation depuis { $marketplace }.
already-connected-title = Déjà connecté
already-connected-text = Ce compte { $marketplace } est déjà connecté à un autre compte, et le reste.
already-connected-hint = Connectez-vous avec le compte auquel il est lié, ou demandez à son propriétaire de le déconnecter d’abord.

## Choisir un espace de travail

workspace-title = Choisir un espace de travail
workspace-text = Où installer { $app } depuis { $marketplace } ?
workspace-legend = Espace de travail
workspace-submit = Installer ici
move-title = Déplacer la connexion ?
move-text = Ce compte { $marketplace } est connecté à l’espace de travail { $from }. Le déplacer vers { $to } ?
move-confirm = Le déplacer
move-cancel = Le laisser où il est

## Erreurs

error-bad-request = Cette demande ne peut pas être traitée
error-not-found = Page introuvable
error-unauthorized = Non connecté
error-forbidden = Non autorisé
error-too-many = Trop de tentatives
error-not-now = Impossible pour le moment
error-marketplace = La place de marché n’a pas répondu comme prévu
error-unavailable = Temporairement indisponible
error-install-unfinished = L’installation n’a pas abouti
error-unexpected = Une erreur s’est produite
detail-not-found = Il n’y a rien à cette adresse.
detail-too-many = Il y a eu trop de tentatives.
detail-method = Cette adresse n’accepte pas cette méthode.
detail-marketplace = La place de marché n’a pas renouvelé les jetons.
detail-too-large = La demande est trop volumineuse.
detail-unavailable = Un service dont la passerelle a besoin ne répond pas.
detail-unexpected = Une erreur s’est produite de notre côté.
hint-unavailable = Rien n’a été modifié. Veuillez réessayer dans une minute.
hint-too-many = Veuillez patienter un moment, puis réessayer.
hint-forbidden = Rechargez la page d’où vous venez et réessayez.
hint-unexpected = Rien n’a été modifié. Veuillez réessayer ; si le problème persiste, contactez le support de l’application.
hint-not-found = Vérifiez l’adresse, ou recommencez depuis la place de marché.
hint-start-again = Recommencez depuis la place de marché ou la page de réglages de l’application.
