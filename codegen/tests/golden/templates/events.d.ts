// Rendered by metricsmith from the schema (template view 1); do not edit.

/** The events of `auth-server`. */
export namespace auth_server {
  /** The user changed their password. */
  export interface AccountChangedPassword {
    event: "account.changedPassword";
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
  }
  /** The user confirmed a sign-in from an unverified session (email or code). */
  export interface AccountConfirmed {
    event: "account.confirmed";
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
  }
  /** An account was created. */
  export interface AccountCreated {
    event: "account.created";
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
  }
  /** The user deleted their account. */
  export interface AccountDeleted {
    event: "account.deleted";
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
  }
  /** A client fetched the account's encryption keys. */
  export interface AccountKeyfetch {
    event: "account.keyfetch";
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
  }
  /** The user signed in with their password. */
  export interface AccountLogin {
    event: "account.login";
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
  }
  /** A sign-in was blocked and needs an unblock code. */
  export interface AccountLoginBlocked {
    event: "account.login.blocked";
  }
  /** The user entered a valid unblock code. */
  export interface AccountLoginConfirmedUnblockCode {
    event: "account.login.confirmedUnblockCode";
  }
  /** The user entered an invalid unblock code. */
  export interface AccountLoginInvalidUnblockCode {
    event: "account.login.invalidUnblockCode";
  }
  /** An unblock code was emailed to the user. */
  export interface AccountLoginSentUnblockCode {
    event: "account.login.sentUnblockCode";
  }
  /** The user reset their password, after a forgotten-password flow. */
  export interface AccountReset {
    event: "account.reset";
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
  }
  /** The server signed a certificate for a session (a browser using the account). Not a flow event when the request's query service is `content-server`. */
  export interface AccountSigned {
    event: "account.signed";
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
    /** The Sync device record id (not the metrics-context device id). */
    "device_id"?: string;
  }
  /** The user verified the email address of a new account. */
  export interface AccountVerified {
    event: "account.verified";
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
    /** Whether the user opted in to marketing email when confirming the account. */
    "marketingOptIn": boolean;
  }
  /** The customs server blocked a request of this flow. */
  export interface CustomsBlocked {
    event: "customs.blocked";
  }
  /** A device record was registered for the account. */
  export interface DeviceCreated {
    event: "device.created";
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
    /** The Sync device record id (not the metrics-context device id). */
    "device_id": string;
    /** Whether the device record was created as a placeholder before the device registered itself. */
    "is_placeholder": boolean;
  }
  /** A device record was deleted. */
  export interface DeviceDeleted {
    event: "device.deleted";
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
    /** The Sync device record id (not the metrics-context device id). */
    "device_id": string;
  }
  /** A device record was updated. */
  export interface DeviceUpdated {
    event: "device.updated";
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
    /** The Sync device record id (not the metrics-context device id). */
    "device_id": string;
    /** Whether the device record was created as a placeholder before the device registered itself. */
    "is_placeholder": boolean;
  }
  /** The sign-in confirmation email was sent. */
  export interface EmailConfirmationSent {
    event: "email.confirmation.sent";
  }
  /** The sign-in code email was sent. */
  export interface EmailTokencodeSent {
    event: "email.tokencode.sent";
  }
  /** The account verification email was sent. */
  export interface EmailVerificationSent {
    event: "email.verification.sent";
  }
  /** The user clicked the verification link in an email. */
  export interface EmailVerifyCodeClicked {
    event: "email.verify_code.clicked";
  }
  /** The flow reached its flowCompleteSignal. Rewritten to `flow.complete.<flowType>` before mapping, so it maps to `<group> - complete`. */
  export interface FlowComplete {
    event: "flow.complete";
  }
  /** The user replaced their two-step authentication recovery codes. */
  export interface RecoveryCodeReplaced {
    event: "recoveryCode.replaced";
  }
  /** The user signed in with a two-step authentication recovery code. */
  export interface RecoveryCodeVerified {
    event: "recoveryCode.verified";
  }
  /** The user created an account recovery key. */
  export interface RecoveryKeyCreated {
    event: "recoveryKey.created";
  }
  /** A sign-in code sent by SMS was used. */
  export interface SigninCodeConsumed {
    event: "signinCode.consumed";
  }
  /** A text message with a link to install Firefox was sent. */
  export interface SmsInstallFirefoxSent {
    event: "sms.installFirefox.sent";
  }
  /** Sync sent a tab to another device of the account. */
  export interface SyncSentTabToDevice {
    event: "sync.sentTabToDevice";
    /** The Sync device record id (not the metrics-context device id). */
    "device_id": string;
    /** The relying service, an OAuth client id (16 hex), `sync` or `content-server`. */
    "service": string;
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
  }
  /** The user verified a sign-in token code. */
  export interface TokenCodesVerified {
    event: "tokenCodes.verified";
  }
  /** The user started setting up two-step authentication. */
  export interface TotpTokenCreated {
    event: "totpToken.created";
  }
  /** A two-step authentication code did not verify. */
  export interface TotpTokenUnverified {
    event: "totpToken.unverified";
  }
  /** The user verified a two-step authentication code. */
  export interface TotpTokenVerified {
    event: "totpToken.verified";
  }
  /** A verification reminder email was sent. */
  export interface AccountReminder {
    event: `account.reminder.${string}`;
  }
  /** The mail service reported the email bounced. */
  export interface EmailBounced {
    event: `email.${string}.bounced`;
  }
  /** The mail service reported the email delivered. */
  export interface EmailDelivered {
    event: `email.${string}.delivered`;
  }
  /** A verification or confirmation email was sent again. */
  export interface EmailResent {
    event: `email.${string}.resent`;
  }
  /** An email was handed to the mail service (one emailEvent line per recipient). */
  export interface EmailSent {
    event: `email.${string}.sent`;
  }
  /** The rewritten form of flow.complete that the Amplitude mapping sees. */
  export interface FlowCompleteTyped {
    event: `flow.complete.${string}`;
  }
  /** A flow continued in a new session; the name carries the old flow id. */
  export interface FlowContinued {
    event: `flow.continued.${string}`;
  }
  /** A step of the forgotten-password flow started or completed. */
  export interface PasswordForgot {
    event: `password.forgot.${string}.${string}`;
  }
  /** A request to an auth-server route finished (not for 404s, OPTIONS or the ignored polling routes). The status is the HTTP status, followed by `.<errno>` (999 when unknown) for errors. */
  export interface Route {
    event: `route.${string}.${string}`;
  }
  /** The time a successful (2xx) request took; flow_time is the request duration, not the flow age. */
  export interface RoutePerformance {
    event: `route.performance.${string}`;
  }
  /** The region an SMS was sent to. */
  export interface SmsRegion {
    event: `sms.region.${string}`;
  }
  /** A text message was sent. */
  export interface SmsSent {
    event: `sms.${string}.sent`;
  }

  /** Any event of `auth-server`. */
  export type Event =
    | AccountChangedPassword
    | AccountConfirmed
    | AccountCreated
    | AccountDeleted
    | AccountKeyfetch
    | AccountLogin
    | AccountLoginBlocked
    | AccountLoginConfirmedUnblockCode
    | AccountLoginInvalidUnblockCode
    | AccountLoginSentUnblockCode
    | AccountReset
    | AccountSigned
    | AccountVerified
    | CustomsBlocked
    | DeviceCreated
    | DeviceDeleted
    | DeviceUpdated
    | EmailConfirmationSent
    | EmailTokencodeSent
    | EmailVerificationSent
    | EmailVerifyCodeClicked
    | FlowComplete
    | RecoveryCodeReplaced
    | RecoveryCodeVerified
    | RecoveryKeyCreated
    | SigninCodeConsumed
    | SmsInstallFirefoxSent
    | SyncSentTabToDevice
    | TokenCodesVerified
    | TotpTokenCreated
    | TotpTokenUnverified
    | TotpTokenVerified
    | AccountReminder
    | EmailBounced
    | EmailDelivered
    | EmailResent
    | EmailSent
    | FlowCompleteTyped
    | FlowContinued
    | PasswordForgot
    | Route
    | RoutePerformance
    | SmsRegion
    | SmsSent;
}

/** The events of `content-server`. */
export namespace content_server {
  /** The user submitted the reset-password form. */
  export interface FlowResetPasswordSubmit {
    event: "flow.reset-password.submit";
  }
  /** The user engaged with the two-step authentication code screen. */
  export interface FlowSigninTotpCodeEngage {
    event: "flow.signin-totp-code.engage";
  }
  /** The user submitted a two-step authentication code at sign-in. */
  export interface FlowSigninTotpCodeSubmit {
    event: "flow.signin-totp-code.submit";
  }
  /** The two-step authentication code was accepted. */
  export interface FlowSigninTotpCodeSuccess {
    event: "flow.signin-totp-code.success";
  }
  /** The user engaged with the update-Firefox prompt. */
  export interface FlowUpdateFirefoxEngage {
    event: "flow.update-firefox.engage";
  }
  /** The update-Firefox prompt was shown. */
  export interface FlowUpdateFirefoxView {
    event: "flow.update-firefox.view";
  }
  /** The two-step authentication settings panel was shown. */
  export interface ScreenSettingsTwoStepAuthentication {
    event: "screen.settings.two-step-authentication";
  }
  /** The two-step authentication code screen was shown at sign-in. */
  export interface ScreenSigninTotpCode {
    event: "screen.signin-totp-code";
  }
  /** The user changed their password in settings. */
  export interface SettingsChangePasswordSuccess {
    event: "settings.change-password.success";
  }
  /** The user signed out from settings. */
  export interface SettingsSignoutSuccess {
    event: "settings.signout.success";
  }
  /** The user clicked an app-store link on the connect-another-device screen. */
  export interface AppStoreLink {
    event: `flow.connect-another-device.link.app-store.${string}`;
  }
  /** A connect-another-device entry point was shown (install_from or signin_from). */
  export interface ConnectDeviceView {
    event: `flow.${string}.${string}`;
  }
  /** The user disconnected a device in settings, giving a reason. */
  export interface DisconnectDevice {
    event: `settings.clients.disconnect.submit.${string}`;
  }
  /** The user clicked the forgot-password link on a view. */
  export interface ForgotPassword {
    event: `flow.${string}.forgot-password`;
  }
  /** The user clicked the already-have-an-account link on a view. */
  export interface HaveAccount {
    event: `flow.${string}.have-account`;
  }
  /** The user changed their newsletter subscription in settings. */
  export interface Newsletter {
    event: `settings.communication-preferences.${string}.success`;
  }
  /** The password-strength experiment evaluated a password in one of its arms. */
  export interface PasswordStrength {
    event: `experiment.${string}.passwordStrength.${string}`;
  }
  /** A view was shown. */
  export interface Screen {
    event: `screen.${string}`;
  }
  /** The user opened a verification link from an email in the given view. */
  export interface VerificationClicked {
    event: `${string}.verification.clicked`;
  }
  /** The user engaged with a view (first interaction with a form). */
  export interface ViewEngage {
    event: `flow.${string}.engage`;
  }
  /** The user submitted a view's form. */
  export interface ViewSubmit {
    event: `flow.${string}.submit`;
  }

  /** Any event of `content-server`. */
  export type Event =
    | FlowResetPasswordSubmit
    | FlowSigninTotpCodeEngage
    | FlowSigninTotpCodeSubmit
    | FlowSigninTotpCodeSuccess
    | FlowUpdateFirefoxEngage
    | FlowUpdateFirefoxView
    | ScreenSettingsTwoStepAuthentication
    | ScreenSigninTotpCode
    | SettingsChangePasswordSuccess
    | SettingsSignoutSuccess
    | AppStoreLink
    | ConnectDeviceView
    | DisconnectDevice
    | ForgotPassword
    | HaveAccount
    | Newsletter
    | PasswordStrength
    | Screen
    | VerificationClicked
    | ViewEngage
    | ViewSubmit;
}

/** The events of `oauth-server`. */
export namespace oauth_server {
  /** An OAuth access token was granted to a relying party. */
  export interface TokenCreated {
    event: "token.created";
    /** The relying service, an OAuth client id (16 hex), `sync` or `content-server`. */
    "service": string;
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
  }
  /** A relying party verified an OAuth access token. */
  export interface VerifySuccess {
    event: "verify.success";
    /** The relying service, an OAuth client id (16 hex), `sync` or `content-server`. */
    "service": string;
    /** The account's uid, 32 lowercase hex characters. */
    "uid": string;
  }

  /** Any event of `oauth-server`. */
  export type Event =
    | TokenCreated
    | VerifySuccess;
}

/** The events of `payments-server`. */
export namespace payments_server {
  /** An event posted by the payments front end; the group is an Amplitude group key (such as subPaySetup) and the event name is snake-cased. */
  export interface Amplitude {
    event: `amplitude.${string}.${string}`;
  }

  /** Any event of `payments-server`. */
  export type Event =
    | Amplitude;
}
