package banqup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// The enumerations below are open string types. Decoding compares
// case-insensitively ("Created" and "created" both become OperationCreated)
// and keeps values it does not know verbatim, so a new value from banqUP
// never fails a message. MassTransit registers no string-enum converter, so
// a .NET enum may also arrive as a JSON integer: it is kept as its decimal
// text ("1").

// Operation says what happened to the entity (meta.operation).
type Operation string

// Documented operations.
const (
	OperationCreated Operation = "created"
	OperationUpdated Operation = "updated"
	OperationDeleted Operation = "deleted"
)

// Initiator says whether a user action or a background task caused the
// event.
type Initiator string

// Documented initiators.
const (
	InitiatorUser           Initiator = "user"
	InitiatorBackgroundTask Initiator = "backgroundTask"
)

// BusinessContext is the context a user was created with in the APIHub.
type BusinessContext string

// Documented business contexts; banqUP's default is individual.
const (
	BusinessContextIndividual BusinessContext = "individual"
	BusinessContextBusiness   BusinessContext = "business"
)

// HolderType is the account holder type as the bank (ASPSP) returned it.
type HolderType string

// Documented holder types.
const (
	HolderTypeIndividual  HolderType = "individual"
	HolderTypeCorporation HolderType = "corporation"
)

// PSURelation is a Polish API "PSU relation type" between the user and an
// account.
type PSURelation string

// Documented PSU relations.
const (
	PSURelationOwner                   PSURelation = "owner"
	PSURelationBorrower                PSURelation = "borrower"
	PSURelationGuarantor               PSURelation = "guarantor"
	PSURelationProxyOwnerGeneral       PSURelation = "proxyOwnerGeneral"
	PSURelationProxyOwnerSpecial       PSURelation = "proxyOwnerSpecial"
	PSURelationProxyOwnerAdministrator PSURelation = "proxyOwnerAdministrator"
	PSURelationProxyOwnerUser          PSURelation = "proxyOwnerUser"
	PSURelationBeneficiary             PSURelation = "beneficiary"
	PSURelationTrustee                 PSURelation = "trustee"
	PSURelationOther                   PSURelation = "other"
)

// BalanceType names one balance of an account (the keys of
// AccountData.Balances).
type BalanceType string

// Documented balance types.
const (
	BalanceClosingAvailable       BalanceType = "closingAvailable"
	BalanceClosingBooked          BalanceType = "closingBooked"
	BalanceExpected               BalanceType = "expected"
	BalanceForwardAvailable       BalanceType = "forwardAvailable"
	BalanceInformation            BalanceType = "information"
	BalanceInterimAvailable       BalanceType = "interimAvailable"
	BalanceInterimBooked          BalanceType = "interimBooked"
	BalanceOpeningAvailable       BalanceType = "openingAvailable"
	BalanceOpeningBooked          BalanceType = "openingBooked"
	BalancePreviouslyClosedBooked BalanceType = "previouslyClosedBooked"
	BalanceOther                  BalanceType = "other"
)

// TransactionStatus is the status of a transaction.
type TransactionStatus string

// Documented transaction statuses.
const (
	TransactionUnauthorised TransactionStatus = "unauthorised"
	TransactionConfirmed    TransactionStatus = "confirmed"
	TransactionAdded        TransactionStatus = "added"
	TransactionBooked       TransactionStatus = "booked"
	TransactionDone         TransactionStatus = "done"
	TransactionPending      TransactionStatus = "pending"
	TransactionRejected     TransactionStatus = "rejected"
	TransactionCancelled    TransactionStatus = "cancelled"
	TransactionScheduled    TransactionStatus = "scheduled"
	TransactionHold         TransactionStatus = "hold"
	TransactionOther        TransactionStatus = "other"
)

// ConsentStatus is the status of a consent in banqUP. Only the two values
// the vendor document shows are named; others are kept verbatim.
type ConsentStatus string

// Documented consent statuses.
const (
	ConsentConfirmed ConsentStatus = "confirmed"
	ConsentInvalid   ConsentStatus = "invalid"
)

// ConsentScope is the PSD2 scope of a consent.
type ConsentScope string

// Documented consent scopes, spelled as banqUP spells them.
const (
	ConsentScopeAIS ConsentScope = "Ais"
	ConsentScopePIS ConsentScope = "Pis"
)

var (
	knownOperations   = []Operation{OperationCreated, OperationUpdated, OperationDeleted}
	knownInitiators   = []Initiator{InitiatorUser, InitiatorBackgroundTask}
	knownContexts     = []BusinessContext{BusinessContextIndividual, BusinessContextBusiness}
	knownHolderTypes  = []HolderType{HolderTypeIndividual, HolderTypeCorporation}
	knownPSURelations = []PSURelation{PSURelationOwner, PSURelationBorrower, PSURelationGuarantor,
		PSURelationProxyOwnerGeneral, PSURelationProxyOwnerSpecial, PSURelationProxyOwnerAdministrator,
		PSURelationProxyOwnerUser, PSURelationBeneficiary, PSURelationTrustee, PSURelationOther}
	knownBalanceTypes = []BalanceType{BalanceClosingAvailable, BalanceClosingBooked, BalanceExpected,
		BalanceForwardAvailable, BalanceInformation, BalanceInterimAvailable, BalanceInterimBooked,
		BalanceOpeningAvailable, BalanceOpeningBooked, BalancePreviouslyClosedBooked, BalanceOther}
	knownTxStatuses = []TransactionStatus{TransactionUnauthorised, TransactionConfirmed, TransactionAdded,
		TransactionBooked, TransactionDone, TransactionPending, TransactionRejected, TransactionCancelled,
		TransactionScheduled, TransactionHold, TransactionOther}
	knownConsentStatuses = []ConsentStatus{ConsentConfirmed, ConsentInvalid}
	knownScopes          = []ConsentScope{ConsentScopeAIS, ConsentScopePIS}
)

// canonical maps s to the known spelling it matches case-insensitively, or
// returns it unchanged.
func canonical[T ~string](s string, known []T) T {
	for _, k := range known {
		if strings.EqualFold(s, string(k)) {
			return k
		}
	}
	return T(s)
}

// decodeEnum reads a JSON string, an integer (kept as text) or null.
func decodeEnum[T ~string](b []byte, known []T, what string) (T, error) {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return "", nil
	case len(b) > 0 && b[0] == '"':
		s, ok := asciiString(b)
		if !ok {
			if err := json.Unmarshal(b, &s); err != nil {
				return "", fmt.Errorf("%w: %s: %v", ErrMalformed, what, err)
			}
		}
		return canonical(s, known), nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return "", fmt.Errorf("%w: %s: %v", ErrMalformed, what, err)
		}
		return T(n.String()), nil
	default:
		return "", fmt.Errorf("%w: %s must be a string, got %s", ErrMalformed, what, truncate(string(b), 20))
	}
}

// UnmarshalJSON implements lenient enum decoding (see the package's enum notes).
func (v *Operation) UnmarshalJSON(b []byte) (err error) {
	*v, err = decodeEnum(b, knownOperations, "operation")
	return err
}

// UnmarshalJSON implements lenient enum decoding.
func (v *Initiator) UnmarshalJSON(b []byte) (err error) {
	*v, err = decodeEnum(b, knownInitiators, "initiator")
	return err
}

// UnmarshalJSON implements lenient enum decoding.
func (v *BusinessContext) UnmarshalJSON(b []byte) (err error) {
	*v, err = decodeEnum(b, knownContexts, "businessContext")
	return err
}

// UnmarshalJSON implements lenient enum decoding.
func (v *HolderType) UnmarshalJSON(b []byte) (err error) {
	*v, err = decodeEnum(b, knownHolderTypes, "holderType")
	return err
}

// UnmarshalJSON implements lenient enum decoding.
func (v *PSURelation) UnmarshalJSON(b []byte) (err error) {
	*v, err = decodeEnum(b, knownPSURelations, "relation")
	return err
}

// UnmarshalJSON implements lenient enum decoding.
func (v *TransactionStatus) UnmarshalJSON(b []byte) (err error) {
	*v, err = decodeEnum(b, knownTxStatuses, "status")
	return err
}

// UnmarshalJSON implements lenient enum decoding.
func (v *ConsentStatus) UnmarshalJSON(b []byte) (err error) {
	*v, err = decodeEnum(b, knownConsentStatuses, "consent status")
	return err
}

// UnmarshalJSON implements lenient enum decoding.
func (v *ConsentScope) UnmarshalJSON(b []byte) (err error) {
	*v, err = decodeEnum(b, knownScopes, "scope")
	return err
}

// UnmarshalText canonicalises a balance type used as a JSON object key.
func (v *BalanceType) UnmarshalText(b []byte) error {
	*v = canonical(string(b), knownBalanceTypes)
	return nil
}

// asciiString returns the contents of a JSON string literal that is plain
// ASCII without escapes, the common case for codes and amounts, without
// going through the JSON decoder.
func asciiString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	for _, c := range b[1 : len(b)-1] {
		if c == '\\' || c == '"' || c < 0x20 || c >= 0x80 {
			return "", false
		}
	}
	return string(b[1 : len(b)-1]), true
}
