#pragma once

#include <gio/gio.h>

#include "stdiolink-event-bus.h"
#include "stdiolink-instance.h"

G_BEGIN_DECLS

/**
 * StdiolinkLaunchSpec:
 * @project_id: the project to run
 * @service_id: its service
 * @program: argv[0], absolute
 * @service_dir: absolute service folder; argv[1] of JavaScript services
 * @config_json: compact JSON written to the temporary config file
 * @native: %TRUE for an `exec` service: argv is `[program, --config-file=..,
 *   --data-root=..]` and the guard name goes to `STDIOLINK_GUARD`; %FALSE: the 5-element
 *   argv of data-root.md 10 with `--guard=`
 * @data_root: absolute data root
 * @run_timeout_ms: kill the instance after this long; 0 = never
 *
 * What stdiolink_instance_manager_start() needs; the strings are copied.
 */
typedef struct {
	const char *project_id;
	const char *service_id;
	const char *program;
	const char *service_dir;
	const char *config_json;
	gboolean native;
	const char *data_root;
	guint run_timeout_ms;
} StdiolinkLaunchSpec;

#define STDIOLINK_TYPE_INSTANCE_MANAGER (stdiolink_instance_manager_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkInstanceManager,
		     stdiolink_instance_manager,
		     STDIOLINK,
		     INSTANCE_MANAGER,
		     GObject)

StdiolinkInstanceManager *stdiolink_instance_manager_new(StdiolinkEventBus *bus,
							 const char *data_root,
							 guint stop_grace_ms,
							 gint64 log_max_bytes,
							 guint log_max_files);
StdiolinkInstance *stdiolink_instance_manager_start(StdiolinkInstanceManager *m,
						    const StdiolinkLaunchSpec *spec,
						    GError **error);
gboolean stdiolink_instance_manager_terminate(StdiolinkInstanceManager *m,
					      const char *instance_id);
guint stdiolink_instance_manager_terminate_project(StdiolinkInstanceManager *m,
						   const char *project_id);
void stdiolink_instance_manager_stop_project_async(StdiolinkInstanceManager *m,
						   const char *project_id,
						   guint timeout_ms,
						   GCancellable *c,
						   GAsyncReadyCallback cb,
						   gpointer data);
gboolean stdiolink_instance_manager_stop_project_finish(StdiolinkInstanceManager *m,
							GAsyncResult *res,
							GError **error);
void stdiolink_instance_manager_kill_all(StdiolinkInstanceManager *m);
void stdiolink_instance_manager_shutdown_async(StdiolinkInstanceManager *m,
					       GCancellable *c,
					       GAsyncReadyCallback cb,
					       gpointer data);
gboolean stdiolink_instance_manager_shutdown_finish(StdiolinkInstanceManager *m,
						    GAsyncResult *res,
						    GError **error);
StdiolinkInstance *stdiolink_instance_manager_lookup(StdiolinkInstanceManager *m,
						     const char *instance_id);
GPtrArray *stdiolink_instance_manager_list(StdiolinkInstanceManager *m, const char *project_id);
guint stdiolink_instance_manager_count_live(StdiolinkInstanceManager *m, const char *project_id);
guint stdiolink_instance_manager_get_stop_grace_ms(StdiolinkInstanceManager *m);
void stdiolink_instance_manager_set_start_timeout(StdiolinkInstanceManager *m,
						  guint timeout_ms);

G_END_DECLS
