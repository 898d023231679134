# As páginas do gateway em português do Brasil.

## Todas as páginas

site-name = Installgate
about-this-app = Sobre este app
link-help = Ajuda
link-privacy = Privacidade
link-terms = Termos
logo-alt = Logotipo de { $name }
the-vendor = o fornecedor

## Entrar e criar conta

purpose-sign-in-install = Entre para continuar instalando { $app } a partir de { $marketplace }.
purpose-sign-in = Entre para gerenciar suas conexões com marketplaces.
purpose-sign-up-install = Crie uma conta para continuar instalando { $app } a partir de { $marketplace }.
purpose-sign-up = Crie uma conta para gerenciar suas conexões com marketplaces.
sign-in-title = Entrar
field-email = E-mail
field-password = Senha
sign-in-submit = Entrar
no-account-yet = Ainda não tem conta?
to-sign-up = Criar conta
sign-in-refused = O e-mail ou a senha não está correto.
sign-up-title = Criar conta
sign-up-heading = Criar uma conta
field-new-password = Senha ({ $min } caracteres ou mais)
sign-up-submit = Criar conta
have-an-account = Já tem uma conta?
to-sign-in = Entrar
email-taken = Já existe uma conta com este e-mail: entre com ela.
email-invalid = Digite um e-mail como nome@example.com.
password-too-short = Escolha uma senha com pelo menos { $min } caracteres.
password-too-long = Escolha uma senha com no máximo { $max } caracteres.
account-needed-title = É preciso ter uma conta
account-needed-text = Para instalar { $app }, você precisa primeiro de uma conta em { $vendor }.
account-needed-get = Obter uma conta em { $vendor }
account-needed-continue = para continuar a instalação.

## A página da conta

account-title = Sua conta
account-heading = Conectado
account-signed-in-as = Você entrou como { $who }.
account-connections = Conexões com marketplaces
account-no-connections = Nenhuma ainda. Instale o app a partir de um marketplace para conectá-lo.
account-connection = { $app } em { $marketplace } (conta { $account }): { $status }
sign-out = Sair
signed-out-title = Você saiu
signed-out-text = Você saiu da sua conta.
signed-out-hint = Você pode fechar esta janela ou entrar novamente pelo marketplace.

## Instalação

install-failed-title = Instalação não concluída
install-failed-heading = A instalação não foi concluída
install-failed-reported = { $marketplace } informou:
install-failed-hint = Nada foi salvo. Você pode fechar esta janela ou iniciar a instalação novamente em { $marketplace }.
confirm-title = Confirmar a conexão
confirm-heading = Conectar { $marketplace }?
confirm-text = Conectar { $kind } de { $marketplace } { $name } à sua conta { $account }?
confirm-text-user = Conectar { $kind } de { $marketplace } { $name } (usuário { $user }) à sua conta { $account }?
confirm-connect = Conectar
confirm-cancel = Cancelar
try-again-title = Tente novamente em instantes
try-again-text = Não conseguimos confirmar sua assinatura agora, então nada foi instalado ainda.
try-again-hint = Tente novamente em alguns minutos pelo marketplace.
cancelled-title = Instalação cancelada
cancelled-text = A instalação foi cancelada e nada foi conectado.
cancelled-hint = Você pode fechar esta aba ou iniciar a instalação novamente em { $marketplace }.
already-connected-title = Já conectada
already-connected-text = Esta conta de { $marketplace } já está conectada a outra conta e continua conectada a ela.
already-connected-hint = Entre com a conta à qual ela está conectada ou peça ao proprietário que a desconecte primeiro.

## Escolher um espaço de trabalho

workspace-title = Escolha um espaço de trabalho
workspace-text = Onde { $app } de { $marketplace } deve ser instalado?
workspace-legend = Espaço de trabalho
workspace-submit = Instalar aqui
move-title = Mover a conexão?
move-text = Esta conta de { $marketplace } está conectada ao espaço de trabalho { $from }. Movê-la para { $to }?
move-confirm = Mover
move-cancel = Deixar onde está

## Erros

error-bad-request = Esta solicitação não pode ser processada
error-not-found = Página não encontrada
error-unauthorized = Você não entrou
error-forbidden = Não permitido
error-too-many = Tentativas demais
error-not-now = Não é possível agora
error-marketplace = O marketplace não respondeu como esperado
error-unavailable = Temporariamente indisponível
error-install-unfinished = A instalação não terminou
error-unexpected = Algo deu errado
detail-not-found = Não há nada neste endereço.
detail-too-many = Houve tentativas demais.
detail-method = Este endereço não aceita esse método.
detail-marketplace = O marketplace não renovou os tokens.
detail-too-large = A solicitação é grande demais.
detail-unavailable = Um serviço de que o gateway precisa não responde.
detail-unexpected = Algo deu errado do nosso lado.
hint-unavailable = Nada foi alterado. Tente novamente em um minuto.
hint-too-many = Aguarde um pouco e tente novamente.
hint-forbidden = Recarregue a página de onde você veio e tente novamente.
hint-unexpected = Nada foi alterado. Tente novamente; se continuar acontecendo, fale com o suporte do app.
hint-not-found = Confira o endereço ou comece de novo pelo marketplace.
hint-start-again = Comece de novo pelo marketplace ou pela página de configurações do app.
