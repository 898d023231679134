# The gateway's pages in English: the reference every other language is checked against.
# Operators may override any message per app (apps.<id>.messages.<language>.<key>).

## Every page

site-name = Installgate
about-this-app = About this app
link-help = Help
link-privacy = Privacy
link-terms = Terms
logo-alt = { $name } logo
the-vendor = the vendor

## Signing in and signing up

purpose-sign-in-install = Sign in to continue installing { $app } from { $marketplace }.
purpose-sign-in = Sign in to manage your marketplace connections.
purpose-sign-up-install = Create an account to continue installing { $app } from { $marketplace }.
purpose-sign-up = Create an account to manage your marketplace connections.
sign-in-title = Sign in
field-email = Email
field-password = Password
sign-in-submit = Sign in
no-account-yet = No account yet?
to-sign-up = Sign up
sign-in-refused = The email address or the password is not right.
sign-up-title = Sign up
sign-up-heading = Create an account
field-new-password = Password ({ $min } characters or more)
sign-up-submit = Create account
have-an-account = Have an account?
to-sign-in = Sign in
email-taken = An account with this email address exists already: sign in instead.
email-invalid = Enter an email address such as name@example.com.
password-too-short = Choose a password of at least { $min } characters.
password-too-long = Choose a password of at most { $max } characters.
account-needed-title = An account is needed
account-needed-text = To install { $app }, you need an account with { $vendor } first.
account-needed-get = Get an account with { $vendor }
account-needed-continue = to continue the install.

## The account page

account-title = Your account
account-heading = Signed in
account-signed-in-as = You are signed in as { $who }.
account-connections = Marketplace connections
account-no-connections = None yet. Install the app from a marketplace to connect it.
account-connection = { $app } on { $marketplace } (account { $account }): { $status }
sign-out = Sign out
signed-out-title = Signed out
signed-out-text = You are signed out.
signed-out-hint = You can close this window, or sign in again from the marketplace.

## Installing

install-failed-title = Install not completed
install-failed-heading = The install was not completed
install-failed-reported = { $marketplace } reported:
install-failed-hint = Nothing was stored. You can close this window, or start the install again from { $marketplace }.
confirm-title = Confirm the connection
confirm-heading = Connect { $marketplace }?
confirm-text = Connect the { $marketplace } { $kind } { $name } to your account { $account }?
confirm-text-user = Connect the { $marketplace } { $kind } { $name } (user { $user }) to your account { $account }?
confirm-connect = Connect
confirm-cancel = Cancel
try-again-title = Please try again shortly
try-again-text = We could not confirm your subscription just now, so nothing was installed yet.
try-again-hint = Try again in a few minutes from the marketplace.
cancelled-title = Installation cancelled
cancelled-text = The installation was cancelled and nothing was connected.
cancelled-hint = You can close this tab, or start the installation again from the { $marketplace } Marketplace.
already-connected-title = Already connected
already-connected-text = This { $marketplace } account is already connected to another account, and stays connected to it.
already-connected-hint = Sign in with the account it is connected to, or ask its owner to disconnect it first.

## Choosing a workspace

workspace-title = Choose a workspace
workspace-text = Where should { $app } from { $marketplace } be installed?
workspace-legend = Workspace
workspace-submit = Install here
move-title = Move the connection?
move-text = This { $marketplace } account is connected to the workspace { $from }. Move it to { $to }?
move-confirm = Move it
move-cancel = Keep it where it is

## Errors

error-bad-request = This request cannot be handled
error-not-found = Page not found
error-unauthorized = Not signed in
error-forbidden = Not allowed
error-too-many = Too many attempts
error-not-now = Not possible now
error-marketplace = The marketplace did not answer as expected
error-unavailable = Temporarily unavailable
error-install-unfinished = The install did not finish
error-unexpected = Something went wrong
detail-not-found = There is nothing at this address.
detail-too-many = There were too many attempts.
detail-method = This address does not accept that method.
detail-marketplace = The marketplace did not renew the tokens.
detail-too-large = The request is too large.
detail-unavailable = A service the gateway needs does not answer.
detail-unexpected = Something went wrong on our side.
hint-unavailable = Nothing was changed. Please try again in a minute.
hint-too-many = Please wait a while, then try again.
hint-forbidden = Reload the page you came from and try again.
hint-unexpected = Nothing was changed. Please try again; if it keeps happening, contact the app's support.
hint-not-found = Check the address, or start again from the marketplace.
hint-start-again = Start again from the marketplace or the app's settings page.
