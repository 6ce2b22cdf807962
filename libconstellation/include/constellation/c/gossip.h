/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C API of gossip membership (constellation/gossip.hpp): one node of a SWIM + Lifeguard cluster
 * with per-node published state, AES-256-GCM with a rotating keyring and a cluster label.
 * Included by <constellation.h>. Conventions are those of constellation.h (int status +
 * cst_error_last(), opaque handles, versioned option structs, cst_*_free(NULL) is a no-op).
 * Every function may be called from any thread. Members and events are JSON text:
 *   member = {"name","address","state":"alive|suspect|dead|left","incarnation","state_map":{k:v}}
 *   event  = {"kind":"join|leave|fail|recover|update","member":member}
 */
#ifndef CONSTELLATION_C_GOSSIP_H
#define CONSTELLATION_C_GOSSIP_H

#include <constellation.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One gossip node (running on its own thread). */
typedef struct cst_gossip cst_gossip;

#define CST_GOSSIP_OPTIONS_VERSION 1

/** Options of cst_gossip_start(). Strings are copied; NULL means the default. */
typedef struct cst_gossip_options {
  unsigned int version;
  /** This node's unique, stable name. Required. */
  const char *name;
  /** "host:port" to bind UDP and TCP to (IP literal; port 0 = any). Default "127.0.0.1:7946". */
  const char *bind;
  /** "host:port" others reach this node at. NULL: the bind address with the bound port. */
  const char *advertise;
  /** Seeds to join, "host:port" separated by commas. NULL: start alone. */
  const char *join;
  /** Base64 AES-256 keys separated by commas, the first the primary. NULL: no encryption. */
  const char *keys;
  /** Cluster label (<= 255 bytes). NULL: empty. */
  const char *label;
  /** "lan" (default) or "fast". */
  const char *profile;
  /** Directory persisting the incarnation across restarts. NULL: none. */
  const char *data_dir;
} cst_gossip_options;

#define CST_GOSSIP_OPTIONS_INIT {CST_GOSSIP_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}

/** Sets `opts` to the defaults of `version` (pass CST_GOSSIP_OPTIONS_VERSION). CST_EINVAL otherwise. */
CST_EXTERN(int) cst_gossip_options_init(cst_gossip_options *opts, unsigned int version);

/**
 * Binds the port and starts the node (and joining, when `join` is set). On success *out is a
 * handle to free with cst_gossip_free(). CST_EINVAL (bad name, address, key or label), CST_EIO
 * (bind failed).
 */
CST_EXTERN(int) cst_gossip_start(cst_gossip **out, const cst_gossip_options *opts);

/** Stops the node without leaving and frees it. NULL is a no-op. */
CST_EXTERN(void) cst_gossip_free(cst_gossip *node);

/** *out receives the advertised "host:port" (freed with cst_free()). */
CST_EXTERN(int) cst_gossip_advertise_address(cst_gossip *node, char **out);

/** Publishes key = value (NUL-terminated) in this node's state map. */
CST_EXTERN(int) cst_gossip_set_state(cst_gossip *node, const char *key, const char *value);

/** Removes a key from this node's state map. */
CST_EXTERN(int) cst_gossip_erase_state(cst_gossip *node, const char *key);

/** *out receives a JSON array of every known member, this node included (freed with cst_free()). */
CST_EXTERN(int) cst_gossip_members(cst_gossip *node, char **out);

/** Joins more seeds ("host:port" separated by commas). */
CST_EXTERN(int) cst_gossip_join(cst_gossip *node, const char *seeds);

/** Broadcasts a graceful leave and waits up to timeout_ms until it is sent. CST_ETIMEOUT otherwise. */
CST_EXTERN(int) cst_gossip_leave(cst_gossip *node, int64_t timeout_ms);

/** *out receives a JSON array of the installed keys in base64, primary first (freed with cst_free()). */
CST_EXTERN(int) cst_gossip_list_keys(cst_gossip *node, char **out);
/** Installs a key (base64 of 32 bytes). CST_EINVAL when malformed. */
CST_EXTERN(int) cst_gossip_install_key(cst_gossip *node, const char *key);
/** Makes an installed key the primary. CST_ENOTFOUND when not installed. */
CST_EXTERN(int) cst_gossip_use_key(cst_gossip *node, const char *key);
/** Removes a key. CST_ENOTFOUND when not installed, CST_ECONFLICT when it is the primary. */
CST_EXTERN(int) cst_gossip_remove_key(cst_gossip *node, const char *key);

/** *out receives the Prometheus text of this node's gossip metrics (freed with cst_free()). */
CST_EXTERN(int) cst_gossip_metrics(cst_gossip *node, char **out);

/** Called on the gossip thread with one event as JSON (valid during the call); must not block. */
typedef void (*cst_gossip_event_fn)(const char *event_json, void *payload);

/** Calls fn for every event from now on; *out_id (if not NULL) identifies the subscription. */
CST_EXTERN(int) cst_gossip_subscribe(cst_gossip *node, uint64_t *out_id, cst_gossip_event_fn fn, void *payload);

/** Ends a subscription; once it returns, its fn is not running (unless called from fn itself). */
CST_EXTERN(int) cst_gossip_unsubscribe(cst_gossip *node, uint64_t id);

#ifdef __cplusplus
}
#endif

#endif /* CONSTELLATION_C_GOSSIP_H */
