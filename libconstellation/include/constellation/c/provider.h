/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Traefik provider from C: render a cluster state (a JSON state document, docs/traefik.md)
 * into Traefik's dynamic configuration, or serve it on GET /v1/traefik and write it to a file.
 * Conventions as in constellation.h: int status + cst_error_last(), versioned option structs,
 * opaque handles, cst_*_free(NULL) is a no-op, strings from `out` parameters are freed with
 * cst_free().
 */
#ifndef CONSTELLATION_C_PROVIDER_H
#define CONSTELLATION_C_PROVIDER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Traefik major versions. */
#define CST_TRAEFIK_V2 2
#define CST_TRAEFIK_V3 3

/** Output formats. */
#define CST_TRAEFIK_JSON 0
#define CST_TRAEFIK_YAML 1

#define CST_PROVIDER_OPTIONS_VERSION 1

/** How labels become configuration (Traefik's Docker-provider defaults). Strings are copied. */
typedef struct cst_provider_options {
  unsigned int version;
  /** Non-zero: instances without traefik.enable are routed. Default 1. */
  int exposed_by_default;
  /** Rule template for routers without a rule; NULL for Host(`{{ normalize .Name }}`). */
  const char *default_rule;
  /** Cluster network for server addresses when an instance is on several; NULL for none. */
  const char *network;
  /** Non-zero: route warning instances too (default 0: passing only). */
  int route_warning;
  /** Non-zero: drop services without a routable server and their routers (default 0: keep them
   *  with an empty server list, so Traefik answers 503). */
  int drop_empty_services;
  /** Comma-separated entry points: only routers on one of them (or on all) are emitted. NULL or
   *  "" for every router. */
  const char *entry_points;
} cst_provider_options;

#define CST_PROVIDER_OPTIONS_INIT {CST_PROVIDER_OPTIONS_VERSION, 1, NULL, NULL, 0, 0, NULL}

/** Sets `opts` to the defaults of `version` (pass CST_PROVIDER_OPTIONS_VERSION). CST_EINVAL for an
 *  unknown version or a NULL opts. */
CST_EXTERN(int) cst_provider_options_init(cst_provider_options *opts, unsigned int version);

/**
 * Renders the configuration of the state document `state_json` (`len` bytes) for Traefik
 * `traefik_version` (CST_TRAEFIK_V2/V3) in `format` (CST_TRAEFIK_JSON/YAML). On success *out is
 * the configuration (NUL-terminated; *out_len its length if out_len is not NULL) and, when
 * `diagnostics_json` is not NULL, *diagnostics_json a JSON array of
 * {severity, node, instance, service, resource, label, message}; free both with cst_free(). Bad labels are
 * diagnostics, not failures. `opts` may be NULL for the defaults. Thread-safe.
 * CST_EINVAL: malformed state document (the message names the path) or invalid option.
 */
CST_EXTERN(int) cst_provider_render(char **out, size_t *out_len, char **diagnostics_json, const char *state_json,
                                    size_t len, int traefik_version, int format, const cst_provider_options *opts);

/** A running Traefik endpoint. */
typedef struct cst_provider_server cst_provider_server;

#define CST_PROVIDER_SERVER_OPTIONS_VERSION 1

/** Where and how to serve. Strings are copied; NULL means the default. */
typedef struct cst_provider_server_options {
  unsigned int version;
  /** Listen address. Default "127.0.0.1". */
  const char *address;
  /** TCP port, 0 for any free port. Default 0. */
  int port;
  /** Event-loop threads. Default 1. */
  unsigned int threads;
  /** Shared token required in `token_header` (NULL: none). */
  const char *token;
  /** Default "X-Constellation-Token". */
  const char *token_header;
  /** PEM files for HTTPS, and a client CA for mTLS (all NULL: plain HTTP). */
  const char *tls_cert_file;
  const char *tls_key_file;
  const char *tls_client_ca_file;
  /** Answer of /v1/traefik without selectors. Default CST_TRAEFIK_V3, CST_TRAEFIK_YAML. */
  int default_version;
  int default_format;
  /** When set, also write the configuration to this file atomically (file provider). */
  const char *file_output;
  int file_version;
  int file_format;
} cst_provider_server_options;

#define CST_PROVIDER_SERVER_OPTIONS_INIT                                                                     \
  {CST_PROVIDER_SERVER_OPTIONS_VERSION, NULL, 0, 1, NULL, NULL, NULL, NULL, NULL, CST_TRAEFIK_V3, CST_TRAEFIK_YAML, \
   NULL, CST_TRAEFIK_V3, CST_TRAEFIK_YAML}

/** Sets `opts` to the defaults of `version` (pass CST_PROVIDER_SERVER_OPTIONS_VERSION). */
CST_EXTERN(int) cst_provider_server_options_init(cst_provider_server_options *opts, unsigned int version);

/**
 * Starts the endpoint. It answers 503 until the first complete state is given with
 * cst_provider_server_update(). On success *out is a handle to free with
 * cst_provider_server_free(). `opts`/`serve` may be NULL for the defaults.
 * CST_EINVAL (bad option, unreadable TLS file), CST_EIO (cannot listen).
 */
CST_EXTERN(int) cst_provider_server_start(cst_provider_server **out, const cst_provider_options *opts,
                                          const cst_provider_server_options *serve);

/** Replaces the cluster state; rendered in the background. CST_EINVAL: malformed document (the
 *  previous state stays served). */
CST_EXTERN(int) cst_provider_server_update(cst_provider_server *server, const char *state_json, size_t len);

/** Blocks until every update made before the call is rendered and served. */
CST_EXTERN(int) cst_provider_server_sync(cst_provider_server *server);

/** The bound port, or a negative cst_error_code. */
CST_EXTERN(int) cst_provider_server_port(const cst_provider_server *server);

/** Stops serving; idempotent. */
CST_EXTERN(int) cst_provider_server_stop(cst_provider_server *server);

/** Stops (if needed) and frees the server. NULL is a no-op. */
CST_EXTERN(void) cst_provider_server_free(cst_provider_server *server);

#ifdef __cplusplus
}
#endif

#endif /* CONSTELLATION_C_PROVIDER_H */
