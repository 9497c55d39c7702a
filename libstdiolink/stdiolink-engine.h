#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "stdiolink-event-bus.h"
#include "stdiolink-instance-manager.h"
#include "stdiolink-job-manager.h"
#include "stdiolink-process-info.h"
#include "stdiolink-server-config.h"

G_BEGIN_DECLS

#define STDIOLINK_TYPE_ENGINE (stdiolink_engine_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkEngine, stdiolink_engine, STDIOLINK, ENGINE, GObject)

/**
 * StdiolinkProjectQuery:
 * @service_id: (nullable): keep projects of this service
 * @status: (nullable): keep projects with this computed status
 * @enabled: (nullable): "true" keeps enabled projects, any other value disabled ones
 * @page: 1-based page
 * @page_size: projects per page, 1..100
 *
 * The filters of `GET /api/projects`, already decoded.
 */
typedef struct {
	const char *service_id;
	const char *status;
	const char *enabled;
	gint page;
	gint page_size;
} StdiolinkProjectQuery;

StdiolinkEngine *stdiolink_engine_new(const char *data_root,
				      const StdiolinkServerConfig *config,
				      const char *self_exe_dir);

const char *stdiolink_engine_get_data_root(StdiolinkEngine *self);
const StdiolinkServerConfig *stdiolink_engine_get_config(StdiolinkEngine *self);
void stdiolink_engine_apply_reloaded_config(StdiolinkEngine *self,
					    const StdiolinkServerConfig *fresh);
StdiolinkEventBus *stdiolink_engine_get_event_bus(StdiolinkEngine *self);
StdiolinkInstanceManager *stdiolink_engine_get_instance_manager(StdiolinkEngine *self);
StdiolinkProcessMonitor *stdiolink_engine_get_process_monitor(StdiolinkEngine *self);
gboolean stdiolink_engine_has_project(StdiolinkEngine *self, const char *id);
void stdiolink_engine_set_listen_port(StdiolinkEngine *self, guint port);
void stdiolink_engine_set_main_loop_lag(StdiolinkEngine *self, gint64 last_us, gint64 max_us);

void stdiolink_engine_load_async(StdiolinkEngine *self,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
gboolean stdiolink_engine_load_finish(StdiolinkEngine *self, GAsyncResult *res, GError **error);
gboolean stdiolink_engine_is_loaded(StdiolinkEngine *self);

StdiolinkJobManager *stdiolink_engine_get_job_manager(StdiolinkEngine *self);
StdiolinkJob *stdiolink_engine_scan_drivers(StdiolinkEngine *self,
					    JsonObject *body,
					    gboolean *existing,
					    StdiolinkJob **conflicting,
					    GError **error);
StdiolinkJob *stdiolink_engine_scan_services(StdiolinkEngine *self,
					     JsonObject *body,
					     gboolean *existing,
					     StdiolinkJob **conflicting,
					     GError **error);

JsonNode *stdiolink_engine_get_status(StdiolinkEngine *self);

JsonNode *stdiolink_engine_list_services(StdiolinkEngine *self);
JsonNode *stdiolink_engine_get_service(StdiolinkEngine *self, const char *id, GError **error);
JsonNode *stdiolink_engine_validate_schema(StdiolinkEngine *self,
					   const char *id,
					   JsonObject *body,
					   GError **error);
JsonNode *stdiolink_engine_generate_defaults(StdiolinkEngine *self,
					     const char *id,
					     GError **error);
JsonNode *stdiolink_engine_validate_config(StdiolinkEngine *self,
					   const char *id,
					   JsonObject *body,
					   GError **error);

JsonNode *stdiolink_engine_list_projects(StdiolinkEngine *self, const StdiolinkProjectQuery *query);
JsonNode *stdiolink_engine_get_project(StdiolinkEngine *self, const char *id, GError **error);
JsonNode *stdiolink_engine_validate_project(StdiolinkEngine *self,
					    const char *id,
					    JsonObject *body,
					    GError **error);
void stdiolink_engine_create_project_async(StdiolinkEngine *self,
					   JsonObject *body,
					   GCancellable *cancellable,
					   GAsyncReadyCallback callback,
					   gpointer user_data);
void stdiolink_engine_update_project_async(StdiolinkEngine *self,
					   const char *id,
					   JsonObject *body,
					   GCancellable *cancellable,
					   GAsyncReadyCallback callback,
					   gpointer user_data);
void stdiolink_engine_delete_project_async(StdiolinkEngine *self,
					   const char *id,
					   GCancellable *cancellable,
					   GAsyncReadyCallback callback,
					   gpointer user_data);
JsonNode *stdiolink_engine_project_op_finish(StdiolinkEngine *self,
					     GAsyncResult *res,
					     GError **error);
void stdiolink_engine_reload_project_async(StdiolinkEngine *self,
					   const char *id,
					   GCancellable *cancellable,
					   GAsyncReadyCallback callback,
					   gpointer user_data);
void stdiolink_engine_set_project_enabled_async(StdiolinkEngine *self,
						const char *id,
						JsonObject *body,
						GCancellable *cancellable,
						GAsyncReadyCallback callback,
						gpointer user_data);
JsonNode *stdiolink_engine_get_project_runtime(StdiolinkEngine *self,
					       const char *id,
					       GError **error);
JsonNode *stdiolink_engine_list_project_runtimes(StdiolinkEngine *self, const char *ids);
JsonNode *stdiolink_engine_start_project(StdiolinkEngine *self, const char *id, GError **error);
JsonNode *stdiolink_engine_stop_project(StdiolinkEngine *self, const char *id, GError **error);

JsonNode *stdiolink_engine_list_instances(StdiolinkEngine *self, const char *project_id);
JsonNode *stdiolink_engine_get_instance(StdiolinkEngine *self, const char *id, GError **error);
JsonNode *stdiolink_engine_terminate_instance(StdiolinkEngine *self,
					      const char *id,
					      GError **error);

JsonNode *stdiolink_engine_list_drivers(StdiolinkEngine *self);
JsonNode *stdiolink_engine_get_driver(StdiolinkEngine *self, const char *id, GError **error);

void stdiolink_engine_shutdown_async(StdiolinkEngine *self,
				     GCancellable *cancellable,
				     GAsyncReadyCallback callback,
				     gpointer user_data);
gboolean stdiolink_engine_shutdown_finish(StdiolinkEngine *self, GAsyncResult *res, GError **error);
void stdiolink_engine_kill_instances(StdiolinkEngine *self);

G_END_DECLS
