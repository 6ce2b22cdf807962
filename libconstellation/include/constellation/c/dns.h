/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C API of the DNS writer (constellation/dns.hpp): plan and apply the record changes that keep
 * public DNS pointing at the cluster's healthy nodes. Included by <constellation.h>.
 * Conventions are those of constellation.h (int status + cst_error_last(), opaque handles,
 * versioned option structs, cst_*_free(NULL) is a no-op).
 */
#ifndef CONSTELLATION_C_DNS_H
#define CONSTELLATION_C_DNS_H

#include <constellation.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A DNS engine: configuration, providers, their caches and request budgets. */
typedef struct cst_dns cst_dns;

/**
 * Returns the current fencing token of the caller's "dns" lease, or 0 when it does not hold it.
 * Called on the thread that called cst_dns_run(), before every write batch and request.
 */
typedef uint64_t (*cst_dns_fence_fn)(void *payload);

#define CST_DNS_RUN_OPTIONS_VERSION 1

/** Options of cst_dns_run(). */
typedef struct cst_dns_run_options {
  unsigned int version;
  /** Non-zero: write the changes. 0 (default): dry run. */
  int apply;
  /** Token the writes are made under when `fence` is NULL. Default 1. */
  uint64_t fencing_token;
  /** Optional fence callback (see cst_dns_fence_fn) and its payload. Default NULL. */
  cst_dns_fence_fn fence;
  void *fence_payload;
  /** Pending deletions from a previous run (the `state` of its report), or NULL. */
  const char *state_json;
  /** Milliseconds a fresh writer holds deletions back. Default 0. */
  int64_t settle_ms;
} cst_dns_run_options;

#define CST_DNS_RUN_OPTIONS_INIT {CST_DNS_RUN_OPTIONS_VERSION, 0, 1, NULL, NULL, NULL, 0}

/** Sets `opts` to the defaults of `version` (pass CST_DNS_RUN_OPTIONS_VERSION). */
CST_EXTERN(int) cst_dns_run_options_init(cst_dns_run_options *opts, unsigned int version);

/**
 * Opens an engine from the configuration JSON (`len` bytes at `config_json`; docs/dns.md).
 * Nothing is contacted. On success *out is freed with cst_dns_free(). CST_EINVAL (with the path
 * of the bad field), CST_EIO (a secret file cannot be read).
 */
CST_EXTERN(int) cst_dns_open(cst_dns **out, const char *config_json, size_t len);

/**
 * Lists the zones, plans against the snapshot JSON and, with opts->apply, writes the changes.
 * On success *out_report is a NUL-terminated JSON object the caller frees with cst_free():
 * {"plan": <plan document>, "text": "...", "state": "...", "applied": n, "aborted": bool,
 *  "abort_reason": "...", "requests": n}. `opts` may be NULL for a dry run. Provider failures
 * end the run early (report "aborted": true) rather than failing the call. CST_EINVAL: a bad
 * snapshot or state document.
 */
CST_EXTERN(int) cst_dns_run(cst_dns *dns, char **out_report, const char *snapshot_json, size_t len,
                            const cst_dns_run_options *opts);

/** Frees the engine. NULL is a no-op. */
CST_EXTERN(void) cst_dns_free(cst_dns *dns);

/**
 * The canonical form of a host name (lower case, IDNA A-labels via Punycode, no trailing dot).
 * *out is freed with cst_free(). CST_EINVAL for a name that is not valid.
 */
CST_EXTERN(int) cst_dns_normalize_name(char **out, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* CONSTELLATION_C_DNS_H */
