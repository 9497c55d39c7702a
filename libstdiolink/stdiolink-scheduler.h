#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "stdiolink-event-bus.h"
#include "stdiolink-instance-manager.h"
#include "stdiolink-project.h"

G_BEGIN_DECLS

/**
 * StdiolinkSchedulerStartFunc:
 * @project: the scheduler's copy of the project to run
 * @user_data: the data given to stdiolink_scheduler_new()
 * @error: return location for a #GError
 *
 * Starts one instance of @project the way a manual start does, returning at once.
 *
 * Returns: %TRUE if an instance was created (its events follow), %FALSE with @error set
 */
typedef gboolean (*StdiolinkSchedulerStartFunc)(StdiolinkProject *project,
						gpointer user_data,
						GError **error);

#define STDIOLINK_TYPE_SCHEDULER (stdiolink_scheduler_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkScheduler, stdiolink_scheduler, STDIOLINK, SCHEDULER, GObject)

StdiolinkScheduler *stdiolink_scheduler_new(StdiolinkInstanceManager *instances,
					    StdiolinkEventBus *bus,
					    StdiolinkSchedulerStartFunc start,
					    gpointer start_data);
void stdiolink_scheduler_start_project(StdiolinkScheduler *s,
				       StdiolinkProject *project,
				       gboolean service_loaded);
void stdiolink_scheduler_stop_project(StdiolinkScheduler *s, const char *project_id);
void stdiolink_scheduler_resume_project(StdiolinkScheduler *s, const char *project_id);
void stdiolink_scheduler_remove_project(StdiolinkScheduler *s, const char *project_id);
void stdiolink_scheduler_shutdown(StdiolinkScheduler *s);

gboolean stdiolink_scheduler_is_shutting_down(StdiolinkScheduler *s);
gboolean stdiolink_scheduler_is_timer_active(StdiolinkScheduler *s, const char *project_id);
gboolean stdiolink_scheduler_is_restart_suppressed(StdiolinkScheduler *s,
						   const char *project_id);
guint stdiolink_scheduler_get_consecutive_failures(StdiolinkScheduler *s,
						   const char *project_id);
JsonNode *stdiolink_scheduler_runtime_to_json(StdiolinkScheduler *s, StdiolinkProject *project);

G_END_DECLS
