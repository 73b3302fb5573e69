package banquptest

import (
	"fmt"

	"github.com/notifykit/notifykit/banqup"
)

// The fixtures are the payloads (the envelope's "message" property) of the
// vendor document's examples, made valid JSON and filled with plausible
// values, camelCase, decimals as strings as MassTransit 8.0.3+ writes them.

const accountJSON = `{
  "data": {
    "id": 1,
    "balances": {
      "closingAvailable": {"currency": "PLN", "date": "2021-01-05T12:05:19.876Z", "value": "1.0"},
      "closingBooked": {"currency": "PLN", "date": "2021-01-05T12:05:19.876Z", "value": "1.0"}
    },
    "bankSwiftCode": "BREXPLPW",
    "currency": "PLN",
    "holderInformation": {
      "nameAddress": "Jan Kowalski, ul. Prosta 1, 00-001 Warszawa",
      "relations": ["owner", "borrower", "guarantor", "proxyOwnerGeneral", "proxyOwnerSpecial",
        "proxyOwnerAdministrator", "proxyOwnerUser", "beneficiary", "trustee", "other"]
    },
    "holderType": "individual",
    "isBusiness": false,
    "iban": "PL27114020040000300201355387",
    "name": "Konto osobiste"
  },
  "embedded": {"user": {"id": "8b0e3c1e-5a57-4b8e-9d1c-2f9f1d2a7c11", "businessContext": "individual"}},
  "meta": {
    "traceId": "debf5d7c-91e1-4ae3-aadc-ce938c6b1df4",
    "operation": "created",
    "initiator": "user",
    "timestamp": "2021-12-01T13:22:51.1872686Z",
    "buildId": "20201130.4",
    "containerId": "e1f64b0a5f32"
  }
}`

const transactionJSON = `{
  "data": {
    "accountingDate": "2021-01-05T13:52:12.180Z",
    "afterTransactionBalance": "1.15",
    "amount": "1.15",
    "currency": "PLN",
    "effectiveDate": "2021-01-05T12:05:19.876Z",
    "endToEndId": "E2E-0001",
    "id": "tx-0001",
    "recipient": {
      "accountIdentifier": {"type": "iban", "value": "PL27114020040000300201355387"},
      "address": "ul. Prosta 1, 00-001 Warszawa",
      "name": "Jan Kowalski"
    },
    "sender": {
      "accountIdentifier": {"type": "iban", "value": "PL61109010140000071219812874"},
      "address": "ul. Krzywa 2, 00-002 Warszawa",
      "name": "Anna Nowak"
    },
    "status": "booked",
    "title": "Zwrot za obiad"
  },
  "embedded": {
    "account": {"id": 1, "iban": "PL27114020040000300201355387"},
    "user": {"id": "8b0e3c1e-5a57-4b8e-9d1c-2f9f1d2a7c11", "businessContext": "individual"}
  },
  "meta": {
    "buildId": "20201130.4",
    "containerId": "e1f64b0a5f32",
    "operation": "created",
    "initiator": "backgroundTask",
    "timestamp": "2021-01-05T12:05:19.876Z"
  }
}`

const sessionFinishedJSON = `{
  "data": {"id": "tx-0001"},
  "embedded": {
    "account": {"id": 1, "iban": "PL27114020040000300201355387"},
    "user": {"id": "8b0e3c1e-5a57-4b8e-9d1c-2f9f1d2a7c11", "businessContext": "business"},
    "session": {"id": "5f0c6a52-6c4e-4d0e-8f7e-0d9b1c2a3b4c", "externalId": "run-2021-01-05"}
  },
  "meta": {
    "buildId": "20201130.4",
    "containerId": "e1f64b0a5f32",
    "initiator": "backgroundTask",
    "timestamp": "2021-01-05T12:05:19.876Z"
  }
}`

const consentJSON = `{
  "data": {
    "id": "consent-42",
    "externalId": "ext-consent-42",
    "bankSwiftCode": "BREXPLPW",
    "status": "invalid",
    "previousStatus": "confirmed",
    "invalidationInfo": {
      "description": "ASPSP: 401 consent expired",
      "invalidated": "2021-01-05T12:05:19.876Z",
      "reason": "Expired"
    },
    "scope": "Ais"
  },
  "embedded": {
    "user": {"id": "client-user-7", "businessContext": "individual"},
    "accounts": [
      {"currencyCode": "EUR", "iban": "PLxxxx1234", "id": 1234},
      {"currencyCode": "PLN", "iban": "PL27114020040000300201355387", "id": 1}
    ]
  },
  "meta": {
    "buildId": "20201130.4",
    "containerId": "e1f64b0a5f32",
    "operation": "updated",
    "initiator": "backgroundTask",
    "timestamp": "2021-01-05T12:05:19.876Z"
  }
}`

const aspspCallJSON = `{
  "bankSwiftCode": "BREXPLPW",
  "endpointUrl": "https://id.openapi.sandbox.bankmillennium.pl/v2_1_1.1/auth/v2_1_1.1/authorize",
  "errorResponseContent": null,
  "exception": null,
  "initiator": "user",
  "requestContext": "RetrieveScaUrl",
  "requestDuration": "00:00:00.0143177",
  "session": {"externalId": "session-ext-1", "id": "0d4f7d2e-3f0a-4c55-9f0c-6d8a1b2c3d4e"},
  "statusCode": 200,
  "user": {"externalId": "regression_AISP_BIGBPLPW_2021-12-03T10:35:37.028Z", "id": "56b62fe5-9a2b-4927-aab1-e2a0f4da590d"},
  "timestamp": "2021-12-03T10:35:51.727948Z",
  "executionId": "c3b8e8af-f468-462d-98ab-416e404ae5fe",
  "containerId": "e1f64b0a5f32",
  "buildId": "20201130.4"
}`

// Fixture returns a fresh copy of the example payload of stream s, as
// banqUP puts it in the envelope's "message" property. It panics on an
// invalid stream, which is a programming error in a test.
func Fixture(s banqup.Stream) []byte {
	switch s {
	case banqup.StreamAccount:
		return []byte(accountJSON)
	case banqup.StreamTransaction:
		return []byte(transactionJSON)
	case banqup.StreamSessionFinished:
		return []byte(sessionFinishedJSON)
	case banqup.StreamConsent:
		return []byte(consentJSON)
	case banqup.StreamAspspCall:
		return []byte(aspspCallJSON)
	}
	panic(fmt.Sprintf("banquptest: no fixture for stream %q", s))
}
