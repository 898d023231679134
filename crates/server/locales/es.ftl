# Las páginas de la pasarela en español.

## Cada página

site-name = Installgate
about-this-app = Acerca de esta aplicación
link-help = Ayuda
link-privacy = Privacidad
link-terms = Condiciones
logo-alt = Logotipo de { $name }
the-vendor = el proveedor

## Iniciar sesión y registrarse

purpose-sign-in-install = Inicia sesión para continuar instalando { $app } desde { $marketplace }.
purpose-sign-in = Inicia sesión para gestionar tus conexiones con los marketplaces.
purpose-sign-up-install = Crea una cuenta para continuar instalando { $app } desde { $marketplace }.
purpose-sign-up = Crea una cuenta para gestionar tus conexiones con los marketplaces.
sign-in-title = Iniciar sesión
field-email = Correo electrónico
field-password = Contraseña
sign-in-submit = Iniciar sesión
no-account-yet = ¿Aún no tienes cuenta?
to-sign-up = Regístrate
sign-in-refused = El correo electrónico o la contraseña no son correctos.
sign-up-title = Registrarse
sign-up-heading = Crear una cuenta
field-new-password = Contraseña ({ $min } caracteres o más)
sign-up-submit = Crear cuenta
have-an-account = ¿Ya tienes cuenta?
to-sign-in = Inicia sesión
email-taken = Ya existe una cuenta con este correo electrónico: inicia sesión.
email-invalid = Introduce un correo electrónico como nombre@example.com.
password-too-short = Elige una contraseña de al menos { $min } caracteres.
password-too-long = Elige una contraseña de como máximo { $max } caracteres.
account-needed-title = Se necesita una cuenta
account-needed-text = Para instalar { $app }, primero necesitas una cuenta en { $vendor }.
account-needed-get = Obtener una cuenta en { $vendor }
account-needed-continue = para continuar la instalación.

## La página de la cuenta

account-title = Tu cuenta
account-heading = Sesión iniciada
account-signed-in-as = Has iniciado sesión como { $who }.
account-connections = Conexiones con marketplaces
account-no-connections = Ninguna todavía. Instala la aplicación desde un marketplace para conectarla.
account-connection = { $app } en { $marketplace } (cuenta { $account }): { $status }
sign-out = Cerrar sesión
signed-out-title = Sesión cerrada
signed-out-text = Has cerrado la sesión.
signed-out-hint = Puedes cerrar esta ventana o volver a iniciar sesión desde el marketplace.

## Instalación

install-failed-title = Instalación no completada
install-failed-heading = La instalación no se completó
install-failed-reported = { $marketplace } informó:
install-failed-hint = No se guardó nada. Puedes cerrar esta ventana o volver a iniciar la instalación desde { $marketplace }.
confirm-title = Confirmar la conexión
confirm-heading = ¿Conectar { $marketplace }?
confirm-text = ¿Conectar { $kind } de { $marketplace } { $name } a tu cuenta { $account }?
confirm-text-user = ¿Conectar { $kind } de { $marketplace } { $name } (usuario { $user }) a tu cuenta { $account }?
confirm-connect = Conectar
confirm-cancel = Cancelar
try-again-title = Vuelve a intentarlo en un momento
try-again-text = No hemos podido confirmar tu suscripción ahora mismo, así que todavía no se ha instalado nada.
try-again-hint = Vuelve a intentarlo en unos minutos desde el marketplace.
cancelled-title = Instalación cancelada
cancelled-text = La instalación se canceló y no se conectó nada.
cancelled-hint = Puedes cerrar esta pestaña o volver a iniciar la instalación desde { $marketplace }.
already-connected-title = Ya conectada
already-connected-text = Esta cuenta de { $marketplace } ya está conectada a otra cuenta y sigue conectada a ella.
already-connected-hint = Inicia sesión con la cuenta a la que está conectada o pide a su propietario que la desconecte primero.

## Elegir un espacio de trabajo

workspace-title = Elige un espacio de trabajo
workspace-text = ¿Dónde quieres instalar { $app } desde { $marketplace }?
workspace-legend = Espacio de trabajo
workspace-submit = Instalar aquí
move-title = ¿Mover la conexión?
move-text = Esta cuenta de { $marketplace } está conectada al espacio de trabajo { $from }. ¿Moverla a { $to }?
move-confirm = Moverla
move-cancel = Dejarla donde está

## Errores

error-bad-request = No se puede procesar esta solicitud
error-not-found = Página no encontrada
error-unauthorized = No has iniciado sesión
error-forbidden = No permitido
error-too-many = Demasiados intentos
error-not-now = No es posible ahora
error-marketplace = El marketplace no respondió como se esperaba
error-unavailable = No disponible temporalmente
error-install-unfinished = La instalación no terminó
error-unexpected = Algo salió mal
detail-not-found = No hay nada en esta dirección.
detail-too-many = Hubo demasiados intentos.
detail-method = Esta dirección no acepta ese método.
detail-marketplace = El marketplace no renovó los tokens.
detail-too-large = La solicitud es demasiado grande.
detail-unavailable = Un servicio que necesita la pasarela no responde.
detail-unexpected = Algo salió mal por nuestra parte.
hint-unavailable = No se ha cambiado nada. Vuelve a intentarlo dentro de un minuto.
hint-too-many = Espera un poco y vuelve a intentarlo.
hint-forbidden = Vuelve a cargar la página de la que venías e inténtalo de nuevo.
hint-unexpected = No se ha cambiado nada. Vuelve a intentarlo; si sigue ocurriendo, contacta con el soporte de la aplicación.
hint-not-found = Comprueba la dirección o empieza de nuevo desde el marketplace.
hint-start-again = Empieza de nuevo desde el marketplace o la página de ajustes de la aplicación.
