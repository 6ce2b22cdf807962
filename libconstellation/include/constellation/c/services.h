/* SPDX-License-Identifier: Apache-2.0 */
/*
 * C API for services: validating compose directories, the cluster catalog (merge, snapshots,
 * queries, the wire codec) and one-shot health checks. Included by <constellation.h>; the
 * conventions there apply (int status + cst_error_last(), opaque handles, versioned options,
 * cst_*_free(NULL) is a no-op, strings returned through `out` are freed with cst_free()).
 */
#ifndef CONSTELLATION_C_SERVICES_H
#define CONSTELLATION_C_SERVICES_H

#include <constellation/version_config.h>

#include <stddef.h>
#include <stdint.h>

#ifndef CST_EXTERN
#define CST_EXTERN(type) CST_API type
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* --- Validation ------------------------------------------------------------------------------- */

/** What cst_services_validate() found. */
typedef struct cst_validation cst_validation;

#define CST_VALIDATE_OPTIONS_VERSION 1

typedef struct cst_validate_options {
  unsigned int version;
  /** Non-zero: interpolate with the process environment over .env. Default 1. */
  int use_process_environment;
} cst_validate_options;

#define CST_VALIDATE_OPTIONS_INIT {CST_VALIDATE_OPTIONS_VERSION, 1}

/** Sets `opts` to the defaults of `version`. CST_EINVAL for an unknown version. */
CST_EXTERN(int) cst_validate_options_init(cst_validate_options *opts, unsigned int version);

/** One finding; the strings are owned by the cst_validation. */
typedef struct cst_diagnostic {
  /** 1 for an error, 0 for a warning. */
  int error;
  const char *file;
  /** 1-based; 0 when the finding is about the whole file. */
  int line;
  int column;
  /** "services.web.ports[1]"; "" for file-level findings. */
  const char *field;
  const char *message;
} cst_diagnostic;

/**
 * Reads and checks every compose file at the top of `directory` (see docs/services.md). Problems
 * in the files are diagnostics in *out, not a failure. On success *out is freed with
 * cst_validation_free(). CST_ENOTFOUND (no such directory), CST_EINVAL (not a directory or no
 * compose file), CST_EIO.
 */
CST_EXTERN(int) cst_services_validate(cst_validation **out, const char *directory, const cst_validate_options *opts);

/** 1 when no diagnostic is an error, else 0 (also for NULL). */
CST_EXTERN(int) cst_validation_ok(const cst_validation *v);
CST_EXTERN(size_t) cst_validation_diagnostic_count(const cst_validation *v);
/** Copies diagnostic `index` to *out. CST_EINVAL for an index out of range. */
CST_EXTERN(int) cst_validation_diagnostic(const cst_validation *v, size_t index, cst_diagnostic *out);
CST_EXTERN(size_t) cst_validation_service_count(const cst_validation *v);
/** Name of service `index` (sorted), owned by `v`; NULL when out of range. */
CST_EXTERN(const char *) cst_validation_service_name(const cst_validation *v, size_t index);
/** Every parsed service and diagnostic as JSON, owned by `v`. */
CST_EXTERN(const char *) cst_validation_json(const cst_validation *v);
CST_EXTERN(void) cst_validation_free(cst_validation *v);

/* --- Catalog ---------------------------------------------------------------------------------- */

/** The merged cluster view (see constellation/catalog.hpp). Not thread-safe. */
typedef struct cst_catalog cst_catalog;

/** What a merge did. Values are stable. */
typedef enum cst_merge_result {
  CST_MERGE_APPLIED = 0,
  CST_MERGE_STALE = 1,
  CST_MERGE_DUPLICATE = 2,
  CST_MERGE_REJECTED = 3
} cst_merge_result;

/** Membership states. Values are stable. */
typedef enum cst_node_state {
  CST_NODE_ALIVE = 0,
  CST_NODE_SUSPECT = 1,
  CST_NODE_FAILED = 2,
  CST_NODE_LEFT = 3
} cst_node_state;

/** Health values. Stable. */
typedef enum cst_health {
  CST_HEALTH_PASSING = 0,
  CST_HEALTH_WARNING = 1,
  CST_HEALTH_CRITICAL = 2,
  CST_HEALTH_MAINTENANCE = 3
} cst_health;

CST_EXTERN(int) cst_catalog_new(cst_catalog **out);
CST_EXTERN(void) cst_catalog_free(cst_catalog *catalog);

/**
 * Offers a node's entry as JSON — the object form cst_catalog_snapshot_json() prints for a node:
 * {"id","name","roles","tags","version","addresses":{},"entry_version","instances":[{"id",
 * "service","project","runtime","runtime_id","labels":{},"ports":[{"target","published",
 * "protocol","host_ip"}],"networks":[],"health":"passing",...}]}. *out_result (may be NULL)
 * receives a cst_merge_result. CST_EINVAL: not valid JSON of that shape.
 */
CST_EXTERN(int) cst_catalog_merge_json(cst_catalog *catalog, const char *node_json, int *out_result);
/** Offers an entry in its binary wire form. CST_EINVAL (malformed), CST_ECORRUPT (inconsistent). */
CST_EXTERN(int) cst_catalog_merge_encoded(cst_catalog *catalog, const unsigned char *bytes, size_t len,
                                          int *out_result);
/** Encodes a node's entry given as JSON (as above) into its wire form; free *out with cst_free(). */
CST_EXTERN(int) cst_catalog_encode_json(unsigned char **out, size_t *out_len, const char *node_json);
/** Sets membership's verdict on a node (a cst_node_state). CST_ENOTFOUND: unknown node or no change. */
CST_EXTERN(int) cst_catalog_set_node_state(cst_catalog *catalog, const char *node_id, int state);
/** Publishes a snapshot if anything changed; *out_generation (may be NULL) gets its generation. */
CST_EXTERN(int) cst_catalog_publish(cst_catalog *catalog, uint64_t *out_generation);
/** The last published snapshot as JSON {"generation","complete","nodes":[...]}. */
CST_EXTERN(int) cst_catalog_snapshot_json(const cst_catalog *catalog, char **out);
/**
 * Healthy instances of `service` in the last published snapshot as a JSON array of
 * {"node_id","node_name","address","network","instance":{...}}. `network` may be NULL or "" for
 * any; `include_warning` non-zero also returns instances in warning.
 */
CST_EXTERN(int) cst_catalog_healthy_json(const cst_catalog *catalog, const char *service, const char *network,
                                         int include_warning, char **out);

/* --- Health checks ---------------------------------------------------------------------------- */

typedef enum cst_check_kind { CST_CHECK_HTTP = 0, CST_CHECK_TCP = 1, CST_CHECK_EXEC = 2 } cst_check_kind;

#define CST_HEALTH_CHECK_VERSION 1

/** One check. Strings are borrowed for the duration of the call. */
typedef struct cst_health_check {
  unsigned int version;
  /** A cst_check_kind. */
  int kind;
  /** Http: URL; Tcp: "host:port". */
  const char *target;
  /** Exec: NULL-terminated argv. */
  const char *const *command;
  /** Http method; NULL for GET. */
  const char *method;
  /** Http: required status, 0 for any 2xx. */
  int expect_status;
  /** Http: required body substring; NULL for none. */
  const char *expect_body;
  /** Timeout in milliseconds. Default 5000. */
  int64_t timeout_ms;
} cst_health_check;

#define CST_HEALTH_CHECK_INIT {CST_HEALTH_CHECK_VERSION, CST_CHECK_HTTP, NULL, NULL, NULL, 0, NULL, 5000}

CST_EXTERN(int) cst_health_check_init(cst_health_check *check, unsigned int version);

/**
 * Runs one check now and waits for it. *out_status gets a cst_health (passing, warning or
 * critical); *out_output (may be NULL) a description to free with cst_free(). A failing check is
 * not an error: CST_OK with CST_HEALTH_CRITICAL. CST_EINVAL for a malformed check.
 */
CST_EXTERN(int) cst_health_run(const cst_health_check *check, int *out_status, char **out_output);

#ifdef __cplusplus
}
#endif

#endif /* CONSTELLATION_C_SERVICES_H */
