package banqup

import "sort"

// Validate methods report required fields ("!" in the vendor document) that
// are missing. Decoding never fails for a missing field: Newtonsoft omits
// nulls and defaults, so a missing field and its zero value look alike, and
// a zero amount is legitimately absent. Validate therefore checks only
// fields whose zero value is never legitimate (ids, IBANs, codes, times).

type missing []string

func (m *missing) str(path, v string) {
	if v == "" {
		*m = append(*m, path)
	}
}

func (m *missing) id(path string, v int64) {
	if v == 0 {
		*m = append(*m, path)
	}
}

func (m *missing) time(path string, v Time) {
	if v.IsZero() {
		*m = append(*m, path)
	}
}

func (m missing) err() error {
	if len(m) == 0 {
		return nil
	}
	sort.Strings(m)
	return &ValidationError{Fields: m}
}

func (m *missing) meta(v Meta, withOperation bool) {
	m.str("meta.buildId", v.BuildID)
	m.str("meta.containerId", v.ContainerID)
	m.str("meta.initiator", string(v.Initiator))
	m.time("meta.timestamp", v.Timestamp)
	if withOperation {
		m.str("meta.operation", string(v.Operation))
	}
}

func (m *missing) user(v User) {
	m.str("embedded.user.id", v.ID)
	m.str("embedded.user.businessContext", string(v.BusinessContext))
}

// Validate reports missing required fields as a *ValidationError.
func (a *AccountMessage) Validate() error {
	var m missing
	m.id("data.id", a.Data.ID)
	for t, b := range a.Data.Balances {
		m.str("data.balances."+string(t)+".currency", b.Currency)
		m.time("data.balances."+string(t)+".date", b.Date)
	}
	m.str("data.bankSwiftCode", a.Data.BankSwiftCode)
	m.str("data.currency", a.Data.Currency)
	m.str("data.iban", a.Data.IBAN)
	m.user(a.Embedded.User)
	m.meta(a.Meta, true)
	return m.err()
}

// Validate reports missing required fields as a *ValidationError.
func (t *TransactionMessage) Validate() error {
	var m missing
	m.str("data.id", t.Data.ID)
	m.str("data.status", string(t.Data.Status))
	if p := t.Data.Recipient; p != nil && p.AccountIdentifier != nil {
		m.str("data.recipient.accountIdentifier.type", p.AccountIdentifier.Type)
	}
	if p := t.Data.Sender; p != nil && p.AccountIdentifier != nil {
		m.str("data.sender.accountIdentifier.type", p.AccountIdentifier.Type)
	}
	m.id("embedded.account.id", t.Embedded.Account.ID)
	m.str("embedded.account.iban", t.Embedded.Account.IBAN)
	m.user(t.Embedded.User)
	m.meta(t.Meta, true)
	return m.err()
}

// Validate reports missing required fields as a *ValidationError.
func (s *SessionFinishedMessage) Validate() error {
	var m missing
	m.str("data.id", s.Data.ID)
	m.id("embedded.account.id", s.Embedded.Account.ID)
	m.str("embedded.account.iban", s.Embedded.Account.IBAN)
	m.user(s.Embedded.User)
	m.str("embedded.session.id", s.Embedded.Session.ID)
	m.meta(s.Meta, false)
	return m.err()
}

// Validate reports missing required fields as a *ValidationError.
func (c *ConsentMessage) Validate() error {
	var m missing
	m.str("data.id", c.Data.ID)
	m.str("data.bankSwiftCode", c.Data.BankSwiftCode)
	m.str("data.status", string(c.Data.Status))
	m.str("data.previousStatus", string(c.Data.PreviousStatus))
	if ii := c.Data.InvalidationInfo; ii != nil {
		m.time("data.invalidationInfo.invalidated", ii.Invalidated)
		m.str("data.invalidationInfo.reason", ii.Reason)
	}
	m.user(c.Embedded.User)
	for _, a := range c.Embedded.Accounts {
		m.id("embedded.accounts[].id", a.ID)
	}
	m.meta(c.Meta, true)
	return m.err()
}

// Validate reports missing required fields as a *ValidationError.
func (a *AspspCall) Validate() error {
	var m missing
	m.str("bankSwiftCode", a.BankSwiftCode)
	m.str("endpointUrl", a.EndpointURL)
	m.str("initiator", string(a.Initiator))
	m.str("requestContext", a.RequestContext)
	m.str("session.id", a.Session.ID)
	if a.StatusCode == 0 {
		m = append(m, "statusCode")
	}
	m.str("user.id", a.User.ID)
	m.time("timestamp", a.Timestamp)
	m.str("executionId", a.ExecutionID)
	m.str("containerId", a.ContainerID)
	m.str("buildId", a.BuildID)
	return m.err()
}
