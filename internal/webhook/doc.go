// Package webhook delivers GameLift placement events as signed HTTP webhooks.
//
// GameLift publishes a queue's placement events to the SNS topic named by the
// queue's NotificationTarget. openlift has no SNS: the operator maps each
// topic ARN to webhook URLs (Routes), and an http(s) URL given directly as a
// NotificationTarget is used as is. core writes every event into the store's
// outbox in the transaction that changes the placement; the Dispatcher reads
// the outbox, fans each event out to its URLs, and POSTs it to each, with
// retries and exponential backoff, deleting an entry only once a URL has
// answered 2xx. Delivery is therefore at least once, and survives restarts.
//
// Each request is signed with the URL's secret (Sign, Verify); see
// docs/webhooks.md for what a receiver checks.
package webhook
