#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define STDIOLINK_TYPE_SERVER_CONFIG (stdiolink_server_config_get_type())

/**
 * StdiolinkServerConfig:
 * @port: TCP port to listen on, 1..65535
 * @host: address to bind, never empty
 * @log_level: `debug`, `info`, `warn` or `error`
 * @service_program: the configured `stdiolink_service` program; empty for the lookup
 * @cors_origin: value of `Access-Control-Allow-Origin`; empty sends no CORS origin
 * @webui_dir: static web console folder; empty means `<data_root>/webui`
 * @token_file: file holding the bearer token the API requires; empty means no token
 * @log_max_bytes: rotation size of the server and project logs, >= 1048576
 * @log_max_files: rotated files kept, 1..100
 * @stop_grace_ms: time between SIGTERM and SIGKILL when stopping an instance
 * @start_timeout_ms: how long a new instance may take to be running (`startTimeoutMs`)
 * @stop_timeout_ms: how long update, delete, reload and disable wait for a project's
 *   instances to exit before they give up; 0 means @stop_grace_ms + 2000
 * @allowed_hosts: extra `Host` header values accepted while bound to loopback
 * @scan_timeout_ms: how long one driver's metadata export may take (`scanTimeoutMs`)
 * @scan_parallelism: driver exports run at once (`scanParallelism`); 0 means twice the
 *   number of processors
 *
 * The contents of `<data_root>/config.json` (data-root.md section 4.1) plus our own keys
 * `stopGraceMs`, `stopTimeoutMs`, `startTimeoutMs`, `allowedHosts`, `scanTimeoutMs` and
 * `scanParallelism`. A plain struct: fill it with
 * stdiolink_server_config_new_default() and stdiolink_server_config_load().
 */
typedef struct {
	guint port;
	char *host;
	char *log_level;
	char *service_program;
	char *cors_origin;
	char *webui_dir;
	char *token_file;
	gint64 log_max_bytes;
	guint log_max_files;
	guint stop_grace_ms;
	guint stop_timeout_ms;
	guint start_timeout_ms;
	GStrv allowed_hosts;
	guint scan_timeout_ms;
	guint scan_parallelism;
} StdiolinkServerConfig;

GType stdiolink_server_config_get_type(void) G_GNUC_CONST;

StdiolinkServerConfig *stdiolink_server_config_new_default(void);
StdiolinkServerConfig *stdiolink_server_config_copy(const StdiolinkServerConfig *config);
void stdiolink_server_config_free(StdiolinkServerConfig *config);

gboolean stdiolink_server_config_load(const char *data_root,
				      StdiolinkServerConfig *config,
				      GError **error);

char *stdiolink_server_config_find_service_program(const StdiolinkServerConfig *config,
						   const char *data_root,
						   const char *self_exe_dir);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkServerConfig, stdiolink_server_config_free)

G_END_DECLS
