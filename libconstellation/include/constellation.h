/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The C API of libconstellation. This header is the contract: anything not declared here is not
 * API. Conventions (docs/c-api.md):
 *
 *  - Every function whose name has a verb returns int: CST_OK (0) or a negative cst_error_code,
 *    and on failure sets a thread-local error that cst_error_last() returns until the next call
 *    on the same thread fails. Functions never abort on bad arguments; NULL where a handle is
 *    required gives CST_EINVAL.
 *  - Handles are opaque (cst_agent). The caller owns what an `out` parameter returns and frees it
 *    with the matching function: cst_agent_free() for a cst_agent, cst_free() for strings.
 *    Every cst_*_free(NULL) is a harmless no-op. A `const char *` returned directly is owned by
 *    its parent handle and valid while the parent lives.
 *  - Option structs start with `unsigned int version`. Initialise them with the _INIT macro or
 *    the _init function; fields are only ever appended, so a program built against an older
 *    header keeps working with a newer library.
 *  - The ABI is stable within a major version (the SONAME is libconstellation.so.<major>).
 *    cst_version_number() tells which library is actually loaded.
 */
#ifndef CONSTELLATION_H
#define CONSTELLATION_H

#include <constellation/version_config.h>

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CST_EXTERN(type) CST_API type

/** Return codes. 0 is success; expected failures are negative. Append only. */
typedef enum cst_error_code {
  CST_OK = 0,
  /** A failure with no more specific code (including an internal error). */
  CST_ERROR = -1,
  /** A malformed argument, option, file or request. */
  CST_EINVAL = -2,
  /** The named thing does not exist. */
  CST_ENOTFOUND = -3,
  /** A precondition on current state failed (e.g. compare-and-set, lease held by another). */
  CST_ECONFLICT = -4,
  /** Not the Raft leader. */
  CST_ENOTLEADER = -5,
  /** A deadline passed; the operation may or may not have taken effect. */
  CST_ETIMEOUT = -6,
  /** Temporarily unavailable (no quorum, peer down, rate limited, resource busy); retry later. */
  CST_EUNAVAILABLE = -7,
  /** Not permitted. */
  CST_EPERM = -8,
  /** The operating system refused a file, socket or process operation. */
  CST_EIO = -9,
  /** Stored or received data failed a checksum or structural check. */
  CST_ECORRUPT = -10
} cst_error_code;

/** The last error on this thread. */
typedef struct cst_error {
  /** A cst_error_code. */
  int code;
  /** A sentence saying what was wrong and where. Never NULL. */
  const char *message;
} cst_error;

/** Version of the loaded library: major * 1000000 + minor * 1000 + patch. */
CST_EXTERN(int) cst_version_number(void);

/** Version of the loaded library as "major.minor.patch" (static storage). */
CST_EXTERN(const char *) cst_version(void);

/**
 * The last error set on this thread, or NULL if none. Owned by the library; valid until the next
 * failing call on this thread or cst_error_clear().
 */
CST_EXTERN(const cst_error *) cst_error_last(void);

/** Forgets this thread's last error. */
CST_EXTERN(void) cst_error_clear(void);

/** Frees memory the library returned through an `out` parameter (strings). NULL is a no-op. */
CST_EXTERN(void) cst_free(void *ptr);

/* --- JSON ------------------------------------------------------------------------------------ */

#define CST_JSON_OPTIONS_VERSION 1

/** Options for cst_json_canonicalize(). */
typedef struct cst_json_options {
  unsigned int version;
  /** Non-zero: object members sorted by key (bytewise). Default 1. */
  int sort_keys;
  /** Non-zero: every non-ASCII character escaped as \uXXXX. Default 0. */
  int ascii_only;
  /** 0: compact; n > 0: n spaces per nesting level. Default 0. */
  int indent;
  /** Deepest nesting accepted. Default 64. */
  size_t max_depth;
} cst_json_options;

#define CST_JSON_OPTIONS_INIT {CST_JSON_OPTIONS_VERSION, 1, 0, 0, 64}

/** Sets `opts` to the defaults of `version` (pass CST_JSON_OPTIONS_VERSION). CST_EINVAL for an
 *  unknown version. */
CST_EXTERN(int) cst_json_options_init(cst_json_options *opts, unsigned int version);

/**
 * Parses `len` bytes of JSON at `json` and writes them back in canonical form: the same value
 * always gives the same bytes. On success *out is a NUL-terminated string the caller frees with
 * cst_free(), and *out_len (if out_len is not NULL) its length. `opts` may be NULL for the
 * defaults. CST_EINVAL: the input is not valid JSON (the error says why and where).
 */
CST_EXTERN(int) cst_json_canonicalize(char **out, size_t *out_len, const char *json, size_t len,
                                      const cst_json_options *opts);

/* --- Agent ----------------------------------------------------------------------------------- */

/** A Constellation agent embedded in the calling process. */
typedef struct cst_agent cst_agent;

#define CST_AGENT_OPTIONS_VERSION 1

/**
 * Options for cst_agent_open(). Configuration is layered: built-in defaults, the YAML file (or
 * text), CONSTELLATION_* environment variables, then the overrides below. String fields are
 * copied; NULL keeps the configured value.
 */
typedef struct cst_agent_options {
  unsigned int version;
  /** Node name override. */
  const char *node_name;
  /** Data directory override (configured default "constellation-data"). */
  const char *data_dir;
  /** HTTP API listen address override (configured default "127.0.0.1"). */
  const char *api_address;
  /** HTTP API port override; 0 picks a free port; -1 keeps the configured one (7400). */
  int api_port;
  /** Log level override: "debug", "info", "warn" or "error". */
  const char *log_level;
  /** Path of a YAML configuration file, or NULL. */
  const char *config_file;
  /** YAML configuration text (instead of config_file), or NULL. */
  const char *config_yaml;
  /** Non-zero: apply CONSTELLATION_* environment variables (default 1). */
  int use_environment;
  /** Directory of compose files override. */
  const char *services_dir;
} cst_agent_options;

#define CST_AGENT_OPTIONS_INIT {CST_AGENT_OPTIONS_VERSION, NULL, NULL, NULL, -1, NULL, NULL, NULL, 1, NULL}

/** Sets `opts` to the defaults of `version` (pass CST_AGENT_OPTIONS_VERSION). */
CST_EXTERN(int) cst_agent_options_init(cst_agent_options *opts, unsigned int version);

/**
 * Opens an agent: validates options, creates the data directory, loads the node identity.
 * Nothing listens until cst_agent_start(). On success *out is a handle to free with
 * cst_agent_free(). CST_EINVAL (bad option), CST_EIO, CST_EUNAVAILABLE (data directory in use),
 * CST_ECORRUPT (damaged identity).
 */
CST_EXTERN(int) cst_agent_open(cst_agent **out, const cst_agent_options *opts);

/** Starts the agent's listeners and loops in background threads. CST_EIO: a port is in use. */
CST_EXTERN(int) cst_agent_start(cst_agent *agent);

/** Stops the agent and waits for its threads. Idempotent. */
CST_EXTERN(int) cst_agent_stop(cst_agent *agent);

/** Stops (if needed) and frees the agent. NULL is a no-op. */
CST_EXTERN(void) cst_agent_free(cst_agent *agent);

/** The bound API port (after cst_agent_start()), or a negative cst_error_code. */
CST_EXTERN(int) cst_agent_api_port(const cst_agent *agent);

/** The node's identity (32 hex digits), owned by the agent; NULL if agent is NULL. */
CST_EXTERN(const char *) cst_agent_node_id(const cst_agent *agent);

#ifdef __cplusplus
}
#endif

#include <constellation/c/dns.h>
#include <constellation/c/provider.h>
#include <constellation/c/services.h>
#include <constellation/c/raft.h>
#include <constellation/c/gossip.h>

#endif /* CONSTELLATION_H */
