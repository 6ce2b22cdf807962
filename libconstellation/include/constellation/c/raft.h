/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C API of the Raft lease/KV store (constellation/raft.hpp): one member of a Raft group with
 * linearizable KV and leases with fencing tokens. Included by <constellation.h>. Conventions are
 * those of constellation.h (int status + cst_error_last(), opaque handles, versioned option
 * structs, cst_*_free(NULL) is a no-op). Every function may be called from any thread; the
 * blocking ones wait at most the node's request timeout.
 */
#ifndef CONSTELLATION_C_RAFT_H
#define CONSTELLATION_C_RAFT_H

#include <constellation.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One member of a Raft group. */
typedef struct cst_raft cst_raft;

#define CST_RAFT_OPTIONS_VERSION 1

/** Options of cst_raft_open(). Strings are copied; NULL means the default. */
typedef struct cst_raft_options {
  unsigned int version;
  /** This member's id, non-zero and unique. Default 1. */
  uint64_t id;
  /** Data directory (raft.db). Default "constellation-raft". */
  const char *data_dir;
  /** Every voter as "id=host:port" separated by commas, this node included. Required. */
  const char *voters;
  /** Raft listen address; NULL: this node's entry in `voters`. */
  const char *listen_address;
  /** Shared secret (>= 16 bytes) when there is more than one voter. */
  const char *cluster_key;
  /** Non-zero: join an existing group (no configuration until the leader adds this node). */
  int join;
  /** Tick length in ms and the election/heartbeat timeouts in ticks. Defaults 50, 10, 2. */
  int tick_ms;
  int election_ticks;
  int heartbeat_ticks;
  /** Deadline of each request in ms. Default 5000. */
  int request_timeout_ms;
  /** "debug", "info", "warn", "error" or "off". Default "warn". */
  const char *log_level;
} cst_raft_options;

#define CST_RAFT_OPTIONS_INIT {CST_RAFT_OPTIONS_VERSION, 1, NULL, NULL, NULL, NULL, 0, 50, 10, 2, 5000, NULL}

/** Sets `opts` to the defaults of `version` (pass CST_RAFT_OPTIONS_VERSION). CST_EINVAL otherwise. */
CST_EXTERN(int) cst_raft_options_init(cst_raft_options *opts, unsigned int version);

/**
 * Opens the data directory, loads the log and starts the node. On success *out is a handle to
 * free with cst_raft_free(). CST_EINVAL (bad option), CST_EIO, CST_EUNAVAILABLE (directory in
 * use), CST_ECORRUPT (raft.db is damaged).
 */
CST_EXTERN(int) cst_raft_open(cst_raft **out, const cst_raft_options *opts);

/** Stops the node (a leader hands leadership over first) and frees it. NULL is a no-op. */
CST_EXTERN(void) cst_raft_free(cst_raft *node);

/** Writes key = value (len bytes). *out_revision (if not NULL) receives the revision. */
CST_EXTERN(int) cst_raft_put(cst_raft *node, uint64_t *out_revision, const char *key, const void *value, size_t len);

/** Writes only if the key's revision is `expected` (0: must not exist). CST_ECONFLICT otherwise. */
CST_EXTERN(int) cst_raft_cas(cst_raft *node, uint64_t *out_revision, const char *key, const void *value, size_t len,
                             uint64_t expected);

/** Deletes the key. CST_ENOTFOUND when absent. */
CST_EXTERN(int) cst_raft_delete(cst_raft *node, uint64_t *out_revision, const char *key);

/**
 * Linearizable read. *out_value receives the value (NUL-terminated, freed with cst_free()),
 * *out_len its length and *out_revision its revision (each may be NULL). CST_ENOTFOUND when absent.
 */
CST_EXTERN(int) cst_raft_get(cst_raft *node, char **out_value, size_t *out_len, uint64_t *out_revision,
                             const char *key);

/** A granted lease. */
typedef struct cst_raft_lease {
  /** Fencing token: strictly increasing per name; protected resources reject older tokens. */
  uint64_t token;
  /** Expiry in replicated cluster time (ns). */
  uint64_t expiry_cluster_ns;
  /** Milliseconds from the return of the call during which the holder may act. */
  int64_t valid_ms;
} cst_raft_lease;

/** Acquires `name` for `holder` for ttl_ms (lock-delay after an expiry: lock_delay_ms).
 *  CST_ECONFLICT when held by another or in lock-delay. */
CST_EXTERN(int) cst_raft_lease_acquire(cst_raft *node, cst_raft_lease *out, const char *name, const char *holder,
                                       int64_t ttl_ms, int64_t lock_delay_ms);

/** Renews a held lease. CST_ECONFLICT when it expired or the token is not current. */
CST_EXTERN(int) cst_raft_lease_renew(cst_raft *node, cst_raft_lease *out, const char *name, const char *holder,
                                     uint64_t token);

/** Releases a held lease (no lock-delay). */
CST_EXTERN(int) cst_raft_lease_release(cst_raft *node, const char *name, const char *holder, uint64_t token);

/*
 * Asynchronous writes: each returns at once. On CST_OK the callback runs exactly once with the
 * outcome: rc is CST_OK or an error code, `error` its message (valid only during the call). It
 * runs on the node's control-loop thread — keep it short and never call a blocking cst_raft_*
 * function from it — or on the calling thread when the request is refused at once (bad
 * arguments, a stopped node). Any other return (node or callback NULL) means it never runs.
 */
typedef void (*cst_raft_write_cb)(void *user, int rc, uint64_t revision, const char *error);
typedef void (*cst_raft_lease_cb)(void *user, int rc, const cst_raft_lease *lease, const char *error);

/** cst_raft_put without blocking; the callback receives the revision. */
CST_EXTERN(int) cst_raft_put_async(cst_raft *node, const char *key, const void *value, size_t len,
                                   cst_raft_write_cb cb, void *user);
/** cst_raft_lease_acquire without blocking; the callback receives the grant (NULL on error). */
CST_EXTERN(int) cst_raft_lease_acquire_async(cst_raft *node, const char *name, const char *holder, int64_t ttl_ms,
                                             int64_t lock_delay_ms, cst_raft_lease_cb cb, void *user);
/** cst_raft_lease_renew without blocking; the callback receives the grant (NULL on error). */
CST_EXTERN(int) cst_raft_lease_renew_async(cst_raft *node, const char *name, const char *holder, uint64_t token,
                                           cst_raft_lease_cb cb, void *user);

/** Waits up to timeout_ms for a leader; *out_leader receives its id. CST_ETIMEOUT otherwise. */
CST_EXTERN(int) cst_raft_wait_for_leader(cst_raft *node, uint64_t *out_leader, int64_t timeout_ms);

/** Hands leadership to `target` (0: the most up-to-date follower). Run on the leader. */
CST_EXTERN(int) cst_raft_transfer_leadership(cst_raft *node, uint64_t target);

/** Recovery after losing a majority: rewrites a stopped node's log so that `voters` (count ids)
 *  is the committed configuration. See docs/raft.md. */
CST_EXTERN(int) cst_raft_recover(const char *data_dir, const uint64_t *voters, size_t count);

#ifdef __cplusplus
}
#endif

#endif /* CONSTELLATION_C_RAFT_H */
