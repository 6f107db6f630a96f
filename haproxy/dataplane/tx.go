package dataplane

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/haproxytech/client-native/v5/models"
	"github.com/shadowscale/shadowscale/haproxy"
)

// change is one step inside a configuration transaction.
type change func(ctx context.Context, txID string) error

// errNoChange from a change abandons the transaction without an error:
// the configuration already holds the change, and a commit would only
// cost the API a reload.
var errNoChange = errors.New("configuration already up to date")

// persist runs changes in one configuration transaction and commits it:
// GET the configuration version, start a transaction on it, apply, commit.
// A stale version (409 on start) or a transaction outdated by another
// commit (406 on commit) starts over, at most Retries times, then fails
// with ErrConflict. A commit refused because the resulting configuration
// fails "haproxy -c" (400) surfaces the API's message. A transaction that
// is not committed is deleted.
func (d *DataPlane) persist(ctx context.Context, op string, forceReload bool, changes ...change) error {
	for attempt := 0; ; attempt++ {
		retry, err := d.persistOnce(ctx, op, forceReload, changes)
		if !retry || attempt >= d.cfg.Retries {
			return err
		}
		d.log.Info("configuration changed underneath, retrying transaction", "op", op, "attempt", attempt+1, "err", err)
		if err := sleep(ctx, d.cfg.RetryDelay*time.Duration(attempt+1)); err != nil {
			return err
		}
	}
}

// persistOnce makes one attempt; retry reports a version conflict.
func (d *DataPlane) persistOnce(ctx context.Context, op string, forceReload bool, changes []change) (retry bool, err error) {
	var version int64
	if err := d.call(ctx, op+": get configuration version", http.MethodGet, "/services/haproxy/configuration/version", nil, nil, &version); err != nil {
		return false, err
	}
	var tx models.Transaction
	q := url.Values{"version": {strconv.FormatInt(version, 10)}}
	if err := d.call(ctx, op+": start transaction", http.MethodPost, "/services/haproxy/transactions", q, nil, &tx); err != nil {
		return status(err) == http.StatusConflict, err
	}
	committed := false
	defer func() {
		if !committed {
			d.deleteTransaction(ctx, op, tx.ID)
		}
	}()
	for _, c := range changes {
		if err := c(ctx, tx.ID); err != nil {
			if errors.Is(err, errNoChange) {
				return false, nil
			}
			return false, err
		}
	}
	cq := url.Values{}
	if forceReload {
		cq.Set("force_reload", "true")
	}
	err = d.call(ctx, op+": commit transaction", http.MethodPut, "/services/haproxy/transactions/"+esc(tx.ID), cq, nil, &tx)
	if err == nil {
		committed = true
		return false, nil
	}
	// 406: another commit outdated this transaction; start over. 400: the
	// configuration failed validation, HAProxy's message is in err and the
	// transaction (now "failed") is deleted.
	return status(err) == http.StatusNotAcceptable, err
}

// deleteTransaction removes an abandoned transaction, even when ctx is
// done, so the API's limit of open transactions is not used up.
func (d *DataPlane) deleteTransaction(ctx context.Context, op, id string) {
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.Timeout)
	defer cancel()
	err := d.call(ctx, op+": delete transaction", http.MethodDelete, "/services/haproxy/transactions/"+esc(id), nil, nil, nil)
	if err != nil && !errors.Is(err, haproxy.ErrNotFound) {
		d.log.Error("delete abandoned transaction", "op", op, "transaction", id, "err", err)
	}
}

// txQuery is the query of a configuration change inside a transaction.
func txQuery(txID, backend string) url.Values {
	return url.Values{"transaction_id": {txID}, "backend": {backend}}
}
