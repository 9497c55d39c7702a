#pragma once

#include "stdiolink-engine.h"
#include "stdiolink-job-manager.h"
#include "stdiolink-project.h"
#include "stdiolink-scheduler.h"
#include "stdiolink-service.h"

G_BEGIN_DECLS

/*
 * The engine's state and tables, for the stdiolink-engine-*.c files that implement it.
 * Main thread only; not installed.
 */

struct _StdiolinkEngine {
	GObject parent_instance;

	char *data_root;
	char *services_dir;
	char *projects_dir;
	char *drivers_dir;
	char *logs_dir;
	char *self_exe_dir;
	StdiolinkServerConfig *config;

	StdiolinkEventBus *bus;
	StdiolinkInstanceManager *instances;
	StdiolinkScheduler *scheduler;
	StdiolinkProcessMonitor *process_monitor; /* CPU samples of the process routes */

	GHashTable *services; /* id -> StdiolinkService */
	GHashTable *projects; /* id -> StdiolinkProject */
	GHashTable *drivers;  /* id -> StdiolinkDriver */
	GHashTable *busy;     /* project ids with a mutation in progress */
	StdiolinkJobManager *jobs;
	gboolean loaded;      /* the start-up services scan has committed the data root */

	GDateTime *started_at;
	gint64 started_mono_us;
	char *platform;
	guint listen_port;
	gint64 lag_last_us;
	gint64 lag_max_us;
};

GPtrArray *stdiolink_engine_sorted_keys(GHashTable *table);
void stdiolink_engine_arm_project(StdiolinkEngine *self, StdiolinkProject *project);
void stdiolink_engine_validate_in_place(StdiolinkEngine *self, StdiolinkProject *project);

StdiolinkService *stdiolink_engine_lookup_service(StdiolinkEngine *self, const char *id);
void stdiolink_engine_put_service(StdiolinkEngine *self, const char *key, StdiolinkService *svc);
GPtrArray *stdiolink_engine_get_service_project_ids(StdiolinkEngine *self,
						    const char *service_id);
void stdiolink_engine_invalidate_project(StdiolinkEngine *self,
					 const char *id,
					 const char *reason);

G_END_DECLS
