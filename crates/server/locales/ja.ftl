# ゲートウェイのページ（日本語）。

## すべてのページ

site-name = Installgate
about-this-app = このアプリについて
link-help = ヘルプ
link-privacy = プライバシー
link-terms = 利用規約
logo-alt = { $name } のロゴ
the-vendor = 提供元

## サインインとアカウント登録

purpose-sign-in-install = { $marketplace } からの { $app } のインストールを続けるには、サインインしてください。
purpose-sign-in = マーケットプレイスとの接続を管理するには、サインインしてください。
purpose-sign-up-install = { $marketplace } からの { $app } のインストールを続けるには、アカウントを作成してください。
purpose-sign-up = マーケットプレイスとの接続を管理するには、アカウントを作成してください。
sign-in-title = サインイン
field-email = メールアドレス
field-password = パスワード
sign-in-submit = サインイン
no-account-yet = アカウントをお持ちでない場合は
to-sign-up = アカウント登録
sign-in-refused = メールアドレスまたはパスワードが正しくありません。
sign-up-title = アカウント登録
sign-up-heading = アカウントを作成
field-new-password = パスワード（{ $min } 文字以上）
sign-up-submit = アカウントを作成
have-an-account = アカウントをお持ちの場合は
to-sign-in = サインイン
email-taken = このメールアドレスのアカウントは既にあります。サインインしてください。
email-invalid = name@example.com のようなメールアドレスを入力してください。
password-too-short = { $min } 文字以上のパスワードを選んでください。
password-too-long = { $max } 文字以下のパスワードを選んでください。
account-needed-title = アカウントが必要です
account-needed-text = { $app } をインストールするには、まず { $vendor } のアカウントが必要です。
account-needed-get = { $vendor } のアカウントを取得
account-needed-continue = してインストールを続けてください。

## アカウントページ

account-title = アカウント
account-heading = サインイン済み
account-signed-in-as = { $who } としてサインインしています。
account-connections = マーケットプレイスとの接続
account-no-connections = まだありません。マーケットプレイスからアプリをインストールすると接続されます。
account-connection = { $marketplace } の { $app }（アカウント { $account }）: { $status }
sign-out = サインアウト
signed-out-title = サインアウトしました
signed-out-text = サインアウトしました。
signed-out-hint = このウィンドウを閉じるか、マーケットプレイスからもう一度サインインしてください。

## インストール

install-failed-title = インストールは完了していません
install-failed-heading = インストールは完了しませんでした
install-failed-reported = { $marketplace } からの報告:
install-failed-hint = 何も保存されていません。このウィンドウを閉じるか、{ $marketplace } からもう一度インストールを始めてください。
confirm-title = 接続の確認
confirm-heading = { $marketplace } を接続しますか？
confirm-text = { $marketplace } の{ $kind } { $name } をあなたのアカウント { $account } に接続しますか？
confirm-text-user = { $marketplace } の{ $kind } { $name }（ユーザー { $user }）をあなたのアカウント { $account } に接続しますか？
confirm-connect = 接続する
confirm-cancel = キャンセル
try-again-title = しばらくしてからもう一度お試しください
try-again-text = 現在ご契約を確認できなかったため、まだ何もインストールされていません。
try-again-hint = 数分後にマーケットプレイスからもう一度お試しください。
cancelled-title = インストールはキャンセルされました
cancelled-text = インストールはキャンセルされ、何も接続されていません。
cancelled-hint = このタブを閉じるか、{ $marketplace } からもう一度インストールを始めてください。
already-connected-title = 既に接続されています
already-connected-text = この { $marketplace } アカウントは既に別のアカウントに接続されており、その接続は維持されます。
already-connected-hint = 接続先のアカウントでサインインするか、所有者に先に接続を解除するよう依頼してください。

## ワークスペースの選択

workspace-title = ワークスペースを選択
workspace-text = { $marketplace } からの { $app } をどこにインストールしますか？
workspace-legend = ワークスペース
workspace-submit = ここにインストール
move-title = 接続を移動しますか？
move-text = この { $marketplace } アカウントはワークスペース { $from } に接続されています。{ $to } に移動しますか？
move-confirm = 移動する
move-cancel = そのままにする

## エラー

error-bad-request = このリクエストは処理できません
error-not-found = ページが見つかりません
error-unauthorized = サインインしていません
error-forbidden = 許可されていません
error-too-many = 試行回数が多すぎます
error-not-now = 現在は実行できません
error-marketplace = マーケットプレイスから想定外の応答がありました
error-unavailable = 一時的に利用できません
error-install-unfinished = インストールは完了しませんでした
error-unexpected = 問題が発生しました
detail-not-found = このアドレスには何もありません。
detail-too-many = 試行回数が多すぎました。
detail-method = このアドレスはそのメソッドを受け付けません。
detail-marketplace = マーケットプレイスがトークンを更新しませんでした。
detail-too-large = リクエストが大きすぎます。
detail-unavailable = ゲートウェイが必要とするサービスが応答していません。
detail-unexpected = こちら側で問題が発生しました。
hint-unavailable = 何も変更されていません。1 分後にもう一度お試しください。
hint-too-many = しばらく待ってから、もう一度お試しください。
hint-forbidden = 元のページを再読み込みして、もう一度お試しください。
hint-unexpected = 何も変更されていません。もう一度お試しください。繰り返し発生する場合は、アプリのサポートにお問い合わせください。
hint-not-found = アドレスを確認するか、マーケットプレイスからやり直してください。
hint-start-again = マーケットプレイスまたはアプリの設定ページからやり直してください。
