#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "stdiolink-event-bus.h"

G_BEGIN_DECLS

/**
 * STDIOLINK_JOB_MANAGER_MAX_FINISHED:
 *
 * How many finished jobs a manager keeps by default; beyond that the one that finished
 * first is forgotten.
 */
#define STDIOLINK_JOB_MANAGER_MAX_FINISHED 100

/**
 * STDIOLINK_JOB_MANAGER_MAX_AGE_US:
 *
 * How long, in microseconds, a manager keeps a finished job by default: one hour.
 */
#define STDIOLINK_JOB_MANAGER_MAX_AGE_US G_TIME_SPAN_HOUR

/**
 * StdiolinkJobStatus:
 * @STDIOLINK_JOB_QUEUED: submitted; its run function has not been called yet
 * @STDIOLINK_JOB_RUNNING: its run function was called and has not completed its task
 * @STDIOLINK_JOB_SUCCEEDED: the task returned a result
 * @STDIOLINK_JOB_FAILED: the task returned an error other than cancellation
 * @STDIOLINK_JOB_CANCELED: cancelled before it ran, or its run stopped on cancellation
 * @STDIOLINK_JOB_N_STATUS: the number of statuses, for arrays indexed by status
 *
 * The life of a job: queued, running, then one of the three finished statuses.
 */
typedef enum {
	STDIOLINK_JOB_QUEUED,
	STDIOLINK_JOB_RUNNING,
	STDIOLINK_JOB_SUCCEEDED,
	STDIOLINK_JOB_FAILED,
	STDIOLINK_JOB_CANCELED,
	STDIOLINK_JOB_N_STATUS
} StdiolinkJobStatus;

const char *stdiolink_job_status_to_string(StdiolinkJobStatus status);

#define STDIOLINK_TYPE_JOB (stdiolink_job_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkJob, stdiolink_job, STDIOLINK, JOB, GObject)

/**
 * StdiolinkJobRunFunc:
 * @job: the job, now running
 * @task: (transfer none): the task to complete; the manager keeps a reference until the
 *   task has returned, so the run function may hold on to it without taking its own
 * @run_data: the data given to stdiolink_job_manager_submit()
 *
 * Starts the work of @job, on the main thread, and returns at once. When the work is done
 * it completes @task with g_task_return_pointer(task, node, json_node_unref), where node is
 * the result object, or with an error. The task's cancellable is the job's: once it is
 * cancelled the work stops, commits nothing and returns %G_IO_ERROR_CANCELLED.
 */
typedef void (*StdiolinkJobRunFunc)(StdiolinkJob *job, GTask *task, gpointer run_data);

const char *stdiolink_job_get_id(StdiolinkJob *job);
const char *stdiolink_job_get_kind(StdiolinkJob *job);
StdiolinkJobStatus stdiolink_job_get_status(StdiolinkJob *job);
JsonObject *stdiolink_job_get_params(StdiolinkJob *job);
JsonNode *stdiolink_job_get_result(StdiolinkJob *job);
const GError *stdiolink_job_get_error(StdiolinkJob *job);
void stdiolink_job_set_progress(StdiolinkJob *job, guint done, guint total);
void stdiolink_job_set_detail(StdiolinkJob *job, const char *member, JsonNode *value);
void stdiolink_job_set_cancelable(StdiolinkJob *job, gboolean cancelable);
JsonNode *stdiolink_job_to_json(StdiolinkJob *job);

#define STDIOLINK_TYPE_JOB_MANAGER (stdiolink_job_manager_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkJobManager,
		     stdiolink_job_manager,
		     STDIOLINK,
		     JOB_MANAGER,
		     GObject)

StdiolinkJobManager *stdiolink_job_manager_new(StdiolinkEventBus *bus);
void stdiolink_job_manager_set_retention(StdiolinkJobManager *self,
					 guint max_finished,
					 gint64 max_age_us);
StdiolinkJob *stdiolink_job_manager_submit(StdiolinkJobManager *self,
					   const char *kind,
					   JsonObject *params,
					   StdiolinkJobRunFunc run,
					   gpointer run_data,
					   GDestroyNotify run_data_free,
					   gboolean *existing,
					   StdiolinkJob **conflicting,
					   GError **error);
StdiolinkJob *stdiolink_job_manager_lookup(StdiolinkJobManager *self, const char *id);
JsonNode *stdiolink_job_manager_list(StdiolinkJobManager *self,
				     const char *kind,
				     const char *status,
				     GError **error);
gboolean stdiolink_job_manager_cancel(StdiolinkJobManager *self, const char *id, GError **error);
void stdiolink_job_manager_wait_async(StdiolinkJobManager *self,
				      StdiolinkJob *job,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data);
StdiolinkJob *stdiolink_job_manager_wait_finish(StdiolinkJobManager *self,
						GAsyncResult *res,
						GError **error);
void stdiolink_job_manager_count_by_status(StdiolinkJobManager *self,
					   guint counts[STDIOLINK_JOB_N_STATUS]);
void stdiolink_job_manager_shutdown_async(StdiolinkJobManager *self,
					  GCancellable *cancellable,
					  GAsyncReadyCallback callback,
					  gpointer user_data);
gboolean stdiolink_job_manager_shutdown_finish(StdiolinkJobManager *self,
					       GAsyncResult *res,
					       GError **error);

G_END_DECLS
