package banqup

import "github.com/notifykit/notifykit/internal/lenient"

// Time is a timestamp as .NET writes it: RFC 3339 with up to seven
// fractional digits, with or without an offset (none means UTC), or a date
// alone. null, "" and a missing field are the zero time. Use its embedded
// time.Time.
type Time = lenient.Time

// User is the embedded.user block of the account, transaction, session and
// consent streams.
type User struct {
	// ID is the user id: banqUP's own id in most streams, the client's
	// externalId in the consent stream.
	ID              string          `json:"id"`
	BusinessContext BusinessContext `json:"businessContext"`
}

// Meta is the meta block common to the account, transaction, session and
// consent streams.
type Meta struct {
	// BuildID is banqUP's build number, e.g. "20201130.4".
	BuildID string `json:"buildId"`
	// ContainerID identifies the emitting container, e.g. "e1f64b0a5f32".
	ContainerID string    `json:"containerId"`
	Initiator   Initiator `json:"initiator"`
	// Timestamp is when the event happened (UTC).
	Timestamp Time `json:"timestamp"`
	// Operation is created, updated or (consents) deleted; empty in the
	// session stream.
	Operation Operation `json:"operation"`
	// TraceID is documented for the account stream only.
	TraceID string `json:"traceId"`
}

// AccountRef is the embedded.account block: the account a transaction or
// session belongs to.
type AccountRef struct {
	ID   int64  `json:"id"`
	IBAN string `json:"iban"`
}

// ---- Account ----

// AccountMessage is banqUP's Accounts:AccountMessage, sent after every
// synchronisation of an account.
type AccountMessage struct {
	Data     AccountData     `json:"data"`
	Embedded AccountEmbedded `json:"embedded"`
	Meta     Meta            `json:"meta"`
}

// AccountData is the account itself.
type AccountData struct {
	// ID is the account id in banqUP.
	ID int64 `json:"id"`
	// Balances maps a balance type to its balance; keys are canonicalised
	// like the other enumerations.
	Balances      map[BalanceType]Balance `json:"balances"`
	BankSwiftCode string                  `json:"bankSwiftCode"`
	Currency      string                  `json:"currency"`
	// HolderInformation is nil when banqUP did not send it.
	HolderInformation *HolderInformation `json:"holderInformation"`
	// HolderType is "" when null or missing.
	HolderType HolderType `json:"holderType"`
	// IsBusiness is nil when null or missing (Newtonsoft also omits false).
	IsBusiness *bool `json:"isBusiness"`
	// IBAN may be masked ("PLxxxx1234") for Citi Handlowy; see the package
	// documentation.
	IBAN string `json:"iban"`
	Name string `json:"name"`
}

// Balance is one balance of an account.
type Balance struct {
	Currency string  `json:"currency"`
	Date     Time    `json:"date"`
	Value    Decimal `json:"value"`
}

// HolderInformation describes the account holder.
type HolderInformation struct {
	NameAddress string        `json:"nameAddress"`
	Relations   []PSURelation `json:"relations"`
}

// AccountEmbedded is the embedded block of an AccountMessage.
type AccountEmbedded struct {
	User User `json:"user"`
}

// ---- Transaction ----

// TransactionMessage is banqUP's Transactions:TransactionMessage, sent after
// every synchronisation of a transaction.
type TransactionMessage struct {
	Data     TransactionData     `json:"data"`
	Embedded TransactionEmbedded `json:"embedded"`
	Meta     Meta                `json:"meta"`
}

// TransactionData is the transaction itself.
type TransactionData struct {
	// AccountingDate is the booking date; zero when null.
	AccountingDate Time `json:"accountingDate"`
	// AfterTransactionBalance is nil when null or missing.
	AfterTransactionBalance *Decimal `json:"afterTransactionBalance"`
	// Amount's sign convention is not documented by banqUP.
	Amount   Decimal `json:"amount"`
	Currency string  `json:"currency"`
	// EffectiveDate is the execution date; zero when null.
	EffectiveDate Time `json:"effectiveDate"`
	// EndToEndID links a PIS payment to the transaction read via AIS.
	EndToEndID string `json:"endToEndId"`
	// ID is the transaction id in banqUP (a string).
	ID        string            `json:"id"`
	Recipient *Party            `json:"recipient"`
	Sender    *Party            `json:"sender"`
	Status    TransactionStatus `json:"status"`
	Title     string            `json:"title"`
}

// Party is the payer or payee of a transaction.
type Party struct {
	// AccountIdentifier is nil when null.
	AccountIdentifier *AccountIdentifier `json:"accountIdentifier"`
	Address           string             `json:"address"`
	Name              string             `json:"name"`
}

// AccountIdentifier identifies a counterparty account.
type AccountIdentifier struct {
	// Type is the identifier type, e.g. "iban".
	Type  string `json:"type"`
	Value string `json:"value"`
}

// TransactionEmbedded is the embedded block of a TransactionMessage.
type TransactionEmbedded struct {
	Account AccountRef `json:"account"`
	User    User       `json:"user"`
}

// ---- Session finished ----

// SessionFinishedMessage is banqUP's Session:SessionFinishedMessage: one per
// account and aggregation run, naming the last transaction aggregated. It
// may overtake some of that run's transactions.
type SessionFinishedMessage struct {
	Data     SessionFinishedData     `json:"data"`
	Embedded SessionFinishedEmbedded `json:"embedded"`
	Meta     Meta                    `json:"meta"`
}

// SessionFinishedData names the last transaction of the run.
type SessionFinishedData struct {
	// ID is the id of the last transaction aggregated for this account in
	// this run.
	ID string `json:"id"`
}

// SessionFinishedEmbedded is the embedded block of a SessionFinishedMessage.
type SessionFinishedEmbedded struct {
	Account AccountRef `json:"account"`
	User    User       `json:"user"`
	Session SessionRef `json:"session"`
}

// SessionRef identifies an aggregation run (or, in AspspCall, an APIHub
// session).
type SessionRef struct {
	ID         string `json:"id"`
	ExternalID string `json:"externalId"`
}

// ---- Consent ----

// ConsentMessage is banqUP's Consents:ConsentMessage: a consent was
// confirmed, invalidated at the bank, or deleted (then Data is its last
// state and Meta.Operation is deleted).
type ConsentMessage struct {
	Data     ConsentData     `json:"data"`
	Embedded ConsentEmbedded `json:"embedded"`
	Meta     Meta            `json:"meta"`
}

// ConsentData is the consent itself.
type ConsentData struct {
	ID             string        `json:"id"`
	ExternalID     string        `json:"externalId"`
	BankSwiftCode  string        `json:"bankSwiftCode"`
	Status         ConsentStatus `json:"status"`
	PreviousStatus ConsentStatus `json:"previousStatus"`
	// InvalidationInfo is present when the consent was invalidated.
	InvalidationInfo *InvalidationInfo `json:"invalidationInfo"`
	Scope            ConsentScope      `json:"scope"`
}

// InvalidationInfo says why and when a consent became invalid.
type InvalidationInfo struct {
	// Description is the bank's error text, if it gave one.
	Description string `json:"description"`
	Invalidated Time   `json:"invalidated"`
	// Reason is assigned by banqUP, usually "Expired".
	Reason string `json:"reason"`
}

// ConsentEmbedded is the embedded block of a ConsentMessage.
type ConsentEmbedded struct {
	// User.ID is the client-assigned user id (banqUP's externalId).
	User     User             `json:"user"`
	Accounts []ConsentAccount `json:"accounts"`
}

// ConsentAccount is one account covered by a consent.
type ConsentAccount struct {
	CurrencyCode string `json:"currencyCode"`
	IBAN         string `json:"iban"`
	ID           int64  `json:"id"`
}

// ---- ASPSP call ----

// AspspCall is banqUP's Models:AspspCall: one APIHub call to a bank. It is
// flat: no data/embedded/meta blocks.
type AspspCall struct {
	BankSwiftCode        string    `json:"bankSwiftCode"`
	EndpointURL          string    `json:"endpointUrl"`
	ErrorResponseContent string    `json:"errorResponseContent"`
	Exception            string    `json:"exception"`
	Initiator            Initiator `json:"initiator"`
	// RequestContext is the call type, e.g. "RetrieveScaUrl".
	RequestContext  string     `json:"requestContext"`
	RequestDuration TimeSpan   `json:"requestDuration"`
	Session         SessionRef `json:"session"`
	StatusCode      int        `json:"statusCode"`
	User            AspspUser  `json:"user"`
	Timestamp       Time       `json:"timestamp"`
	// ExecutionID is a trace id for banqUP's logs.
	ExecutionID string `json:"executionId"`
	ContainerID string `json:"containerId"`
	BuildID     string `json:"buildId"`
}

// AspspUser identifies the user an ASPSP call was made for.
type AspspUser struct {
	ExternalID string `json:"externalId"`
	// ID is the APIHub user id (a GUID).
	ID string `json:"id"`
}
