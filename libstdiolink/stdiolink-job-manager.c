#include "config.h"

#include "stdiolink-error.h"
#include "stdiolink-job-manager.h"
#include "stdiolink-json.h"
#include "stdiolink-util.h"

/*
 * Long operations (driver and service scans) run as jobs (DESIGN.md "Where we go beyond",
 * 1). A job is queued when submitted, goes running from an idle callback, and finishes when
 * the GTask handed to its run function returns. Every step is published on the event bus:
 * `job.started`, `job.progress` while it changes, then exactly one of `job.finished`,
 * `job.failed` and `job.canceled`.
 *
 * At most one job per kind is queued or running. Finished jobs are kept so that clients
 * can read their outcome: at most STDIOLINK_JOB_MANAGER_MAX_FINISHED (100) of them, each
 * for at most STDIOLINK_JOB_MANAGER_MAX_AGE_US (one hour) after it finished; the one that
 * finished first is forgotten first. Pruning happens on submit, lookup, list, cancel and
 * count; jobs still queued or running are never pruned.
 *
 * Lifetime: a queued or running job holds a reference on its manager, and so does every
 * pending wait or shutdown (its GTask's source object). A manager whose owner lets go of it
 * therefore lives on until its last job has finished and every waiter was answered; its
 * finalize never finds work in progress, and no waiter is left hanging.
 */

#define JOB_ID_CHARS 16

struct _StdiolinkJob {
	GObject parent_instance;

	char *id;
	char *kind;
	StdiolinkJobStatus status;
	char *created_at;
	char *started_at;	/* nullable */
	char *finished_at;	/* nullable */
	gint64 finished_us;	/* monotonic time of finishing, for retention */
	guint done;
	guint total;
	JsonObject *params;	/* sealed */
	JsonNode *result;	/* nullable; only when succeeded */
	GError *error;		/* nullable; only when failed */
	JsonObject *details;	/* members added by stdiolink_job_set_detail() */
	GCancellable *cancellable;
	gboolean uncancelable;	/* refused by stdiolink_job_manager_cancel(), not by shutdown */
	StdiolinkEventBus *bus; /* nullable */

	/* while queued or running */
	StdiolinkJobManager *manager; /* strong: a manager outlives its active jobs */
	GSource *start_source;	      /* while queued */
	GTask *task;		      /* while running */
	StdiolinkJobRunFunc run;
	gpointer run_data;
	GDestroyNotify run_data_free;
};

G_DEFINE_FINAL_TYPE(StdiolinkJob, stdiolink_job, G_TYPE_OBJECT)

struct _StdiolinkJobManager {
	GObject parent_instance;

	StdiolinkEventBus *bus; /* nullable */
	GQueue jobs;		/* StdiolinkJob, oldest first */
	GHashTable *by_id;	/* id -> StdiolinkJob, borrowed from jobs */
	GList *waiters;		/* Waiter */
	guint max_finished;
	gint64 max_age_us;
};

G_DEFINE_FINAL_TYPE(StdiolinkJobManager, stdiolink_job_manager, G_TYPE_OBJECT)

typedef struct {
	StdiolinkJobManager *manager; /* kept alive by the task */
	GTask *task;
	StdiolinkJob *job; /* NULL: a shutdown, waiting for every job */
	GSource *cancel_source;
} Waiter;

static const char *const status_names[] = {
	"queued", "running", "succeeded", "failed", "canceled",
};

G_STATIC_ASSERT(G_N_ELEMENTS(status_names) == STDIOLINK_JOB_N_STATUS);

/* the members of the job object that stdiolink_job_set_detail() may not replace */
static const char *const standard_members[] = {
	"id",	  "kind",   "status", "createdAt", "startedAt", "finishedAt",
	"progress", "params", "result", "error",     NULL,
};

/**
 * stdiolink_job_status_to_string:
 * @status: a status
 *
 * Returns: its name in the API: `queued`, `running`, `succeeded`, `failed` or `canceled`
 */
const char *
stdiolink_job_status_to_string(StdiolinkJobStatus status)
{
	g_return_val_if_fail((guint)status < STDIOLINK_JOB_N_STATUS, NULL);
	return status_names[status];
}

static gboolean
status_from_string(const char *name, StdiolinkJobStatus *status)
{
	for (guint i = 0; i < G_N_ELEMENTS(status_names); i++) {
		if (g_str_equal(name, status_names[i])) {
			*status = (StdiolinkJobStatus)i;
			return TRUE;
		}
	}
	return FALSE;
}

static gboolean
job_is_finished(StdiolinkJob *job)
{
	return job->status >= STDIOLINK_JOB_SUCCEEDED;
}

static void
release_run_data(StdiolinkJob *job)
{
	GDestroyNotify free_func = g_steal_pointer(&job->run_data_free);
	gpointer data = g_steal_pointer(&job->run_data);

	job->run = NULL;
	if (free_func != NULL)
		free_func(data);
}

static void
stdiolink_job_finalize(GObject *object)
{
	StdiolinkJob *self = STDIOLINK_JOB(object);

	/* a finished job has released these already */
	release_run_data(self);
	if (self->start_source != NULL) {
		g_source_destroy(self->start_source);
		g_source_unref(self->start_source);
	}
	g_clear_object(&self->task);
	g_clear_object(&self->manager);

	g_free(self->id);
	g_free(self->kind);
	g_free(self->created_at);
	g_free(self->started_at);
	g_free(self->finished_at);
	g_clear_pointer(&self->params, json_object_unref);
	g_clear_pointer(&self->result, json_node_unref);
	g_clear_error(&self->error);
	json_object_unref(self->details);
	g_object_unref(self->cancellable);
	g_clear_object(&self->bus);
	G_OBJECT_CLASS(stdiolink_job_parent_class)->finalize(object);
}

static void
stdiolink_job_class_init(StdiolinkJobClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = stdiolink_job_finalize;
}

static void
stdiolink_job_init(StdiolinkJob *self)
{
	self->status = STDIOLINK_JOB_QUEUED;
	self->details = json_object_new();
	self->cancellable = g_cancellable_new();
}

/**
 * stdiolink_job_get_id:
 * @job: a job
 *
 * Returns: its id, 16 lower-case hex digits
 */
const char *
stdiolink_job_get_id(StdiolinkJob *job)
{
	g_return_val_if_fail(STDIOLINK_IS_JOB(job), NULL);
	return job->id;
}

/**
 * stdiolink_job_get_kind:
 * @job: a job
 *
 * Returns: its kind, e.g. `drivers.scan`
 */
const char *
stdiolink_job_get_kind(StdiolinkJob *job)
{
	g_return_val_if_fail(STDIOLINK_IS_JOB(job), NULL);
	return job->kind;
}

/**
 * stdiolink_job_get_status:
 * @job: a job
 *
 * Returns: its current status
 */
StdiolinkJobStatus
stdiolink_job_get_status(StdiolinkJob *job)
{
	g_return_val_if_fail(STDIOLINK_IS_JOB(job), STDIOLINK_JOB_FAILED);
	return job->status;
}

/**
 * stdiolink_job_get_params:
 * @job: a job
 *
 * Returns: (transfer none): the parameters it was submitted with (sealed)
 */
JsonObject *
stdiolink_job_get_params(StdiolinkJob *job)
{
	g_return_val_if_fail(STDIOLINK_IS_JOB(job), NULL);
	return job->params;
}

/**
 * stdiolink_job_get_result:
 * @job: a job
 *
 * Returns: (transfer none) (nullable): what its task returned; %NULL unless it succeeded
 */
JsonNode *
stdiolink_job_get_result(StdiolinkJob *job)
{
	g_return_val_if_fail(STDIOLINK_IS_JOB(job), NULL);
	return job->result;
}

/**
 * stdiolink_job_get_error:
 * @job: a job
 *
 * Returns: (transfer none) (nullable): the error its task returned; %NULL unless it failed
 *   (a cancelled job has no error)
 */
const GError *
stdiolink_job_get_error(StdiolinkJob *job)
{
	g_return_val_if_fail(STDIOLINK_IS_JOB(job), NULL);
	return job->error;
}

static JsonObject *
event_data(StdiolinkJob *job)
{
	JsonObject *data = json_object_new();

	json_object_set_string_member(data, "jobId", job->id);
	json_object_set_string_member(data, "kind", job->kind);
	return data;
}

static void
publish(StdiolinkJob *job, const char *type, JsonObject *data)
{
	g_autoptr(JsonObject) owned = data;

	if (job->bus != NULL)
		stdiolink_event_bus_publish(job->bus, type, g_steal_pointer(&owned));
}

/**
 * stdiolink_job_set_progress:
 * @job: a running job
 * @done: units of work done, never decreasing
 * @total: units of work in all
 *
 * Updates the job's `progress` and publishes `job.progress` if either number changed.
 * Ignored unless @job is running, so that no progress event follows the terminal one.
 */
void
stdiolink_job_set_progress(StdiolinkJob *job, guint done, guint total)
{
	JsonObject *data;

	g_return_if_fail(STDIOLINK_IS_JOB(job));

	if (job->status != STDIOLINK_JOB_RUNNING)
		return;
	if (done == job->done && total == job->total)
		return;

	job->done = done;
	job->total = total;
	data = event_data(job);
	json_object_set_int_member(data, "done", done);
	json_object_set_int_member(data, "total", total);
	publish(job, "job.progress", data);
}

/**
 * stdiolink_job_set_cancelable:
 * @job: a job
 * @cancelable: whether stdiolink_job_manager_cancel() may cancel it
 *
 * A job whose work the rest depends on (the start-up load of a data root) is made
 * uncancelable: a request to cancel it is refused. A shutdown still cancels it.
 */
void
stdiolink_job_set_cancelable(StdiolinkJob *job, gboolean cancelable)
{
	g_return_if_fail(STDIOLINK_IS_JOB(job));

	job->uncancelable = !cancelable;
}

/**
 * stdiolink_job_set_detail:
 * @job: a job
 * @member: the member name, e.g. `failures`; not one of the standard members (`id`,
 *   `kind`, `status`, `createdAt`, `startedAt`, `finishedAt`, `progress`, `params`,
 *   `result`, `error`)
 * @value: (transfer full) (nullable): the value, taken over as json_object_set_member()
 *   does; %NULL removes the member
 *
 * Adds or replaces an extra member of the job object stdiolink_job_to_json() returns.
 */
void
stdiolink_job_set_detail(StdiolinkJob *job, const char *member, JsonNode *value)
{
	g_autoptr(JsonNode) owned = value;

	g_return_if_fail(STDIOLINK_IS_JOB(job));
	g_return_if_fail(member != NULL);
	g_return_if_fail(!g_strv_contains(standard_members, member));

	if (owned == NULL) {
		json_object_remove_member(job->details, member);
		return;
	}
	json_object_set_member(job->details, member, g_steal_pointer(&owned));
}

static void
set_string_or_null(JsonObject *obj, const char *member, const char *value)
{
	if (value != NULL)
		json_object_set_string_member(obj, member, value);
	else
		json_object_set_null_member(obj, member);
}

static JsonObject *
error_to_json(const GError *error)
{
	JsonObject *obj = json_object_new();
	const char *code = "internal";

	if (error->domain == STDIOLINK_ERROR)
		code = stdiolink_error_to_code((StdiolinkError)error->code);
	json_object_set_string_member(obj, "code", code);
	json_object_set_string_member(obj, "message", error->message);
	return obj;
}

static JsonNode *
result_node(StdiolinkJob *job)
{
	if (job->result != NULL)
		return json_node_copy(job->result);
	return json_node_new(JSON_NODE_NULL);
}

static JsonNode *
error_node(StdiolinkJob *job)
{
	if (job->error != NULL)
		return stdiolink_json_node_new_object(error_to_json(job->error));
	return json_node_new(JSON_NODE_NULL);
}

static void
add_details(JsonObject *obj, JsonObject *details)
{
	g_autoptr(GList) members = json_object_get_members(details);

	for (GList *l = members; l != NULL; l = l->next) {
		JsonNode *value = json_object_get_member(details, l->data);

		json_object_set_member(obj, l->data, json_node_copy(value));
	}
}

/**
 * stdiolink_job_to_json:
 * @job: a job
 *
 * The job object of the API: `id`, `kind`, `status`, `createdAt`, `startedAt`,
 * `finishedAt` (times with milliseconds, or null), `progress {done, total}`, `params`,
 * `result` (null unless succeeded), `error {code, message}` (null unless failed), then the
 * members set with stdiolink_job_set_detail().
 *
 * Returns: (transfer full): an object node
 */
JsonNode *
stdiolink_job_to_json(StdiolinkJob *job)
{
	JsonObject *obj;
	JsonObject *progress;

	g_return_val_if_fail(STDIOLINK_IS_JOB(job), NULL);

	obj = json_object_new();
	json_object_set_string_member(obj, "id", job->id);
	json_object_set_string_member(obj, "kind", job->kind);
	json_object_set_string_member(obj, "status", status_names[job->status]);
	json_object_set_string_member(obj, "createdAt", job->created_at);
	set_string_or_null(obj, "startedAt", job->started_at);
	set_string_or_null(obj, "finishedAt", job->finished_at);

	progress = json_object_new();
	json_object_set_int_member(progress, "done", job->done);
	json_object_set_int_member(progress, "total", job->total);
	json_object_set_object_member(obj, "progress", progress);

	json_object_set_object_member(obj, "params", json_object_ref(job->params));
	json_object_set_member(obj, "result", result_node(job));
	json_object_set_member(obj, "error", error_node(job));
	add_details(obj, job->details);
	return stdiolink_json_node_new_object(obj);
}

static void
stdiolink_job_manager_finalize(GObject *object)
{
	StdiolinkJobManager *self = STDIOLINK_JOB_MANAGER(object);

	/* active jobs and waiters hold references: by now every job has finished */
	g_warn_if_fail(self->waiters == NULL);
	g_hash_table_unref(self->by_id);
	g_queue_clear_full(&self->jobs, g_object_unref);
	g_clear_object(&self->bus);
	G_OBJECT_CLASS(stdiolink_job_manager_parent_class)->finalize(object);
}

static void
stdiolink_job_manager_class_init(StdiolinkJobManagerClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = stdiolink_job_manager_finalize;
}

static void
stdiolink_job_manager_init(StdiolinkJobManager *self)
{
	g_queue_init(&self->jobs);
	self->by_id = g_hash_table_new(g_str_hash, g_str_equal);
	self->max_finished = STDIOLINK_JOB_MANAGER_MAX_FINISHED;
	self->max_age_us = STDIOLINK_JOB_MANAGER_MAX_AGE_US;
}

/**
 * stdiolink_job_manager_new:
 * @bus: (nullable): where job events are published; %NULL for none
 *
 * Returns: (transfer full): a manager with no jobs, keeping finished jobs as long as
 *   %STDIOLINK_JOB_MANAGER_MAX_FINISHED and %STDIOLINK_JOB_MANAGER_MAX_AGE_US allow
 */
StdiolinkJobManager *
stdiolink_job_manager_new(StdiolinkEventBus *bus)
{
	StdiolinkJobManager *self;

	g_return_val_if_fail(bus == NULL || STDIOLINK_IS_EVENT_BUS(bus), NULL);

	self = g_object_new(STDIOLINK_TYPE_JOB_MANAGER, NULL);
	if (bus != NULL)
		self->bus = g_object_ref(bus);
	return self;
}

/**
 * stdiolink_job_manager_set_retention:
 * @self: a manager
 * @max_finished: how many finished jobs to keep
 * @max_age_us: how long to keep a finished job, in microseconds after it finished
 *
 * Replaces the limits of %STDIOLINK_JOB_MANAGER_MAX_FINISHED and
 * %STDIOLINK_JOB_MANAGER_MAX_AGE_US (for tests); they apply from the next prune.
 */
void
stdiolink_job_manager_set_retention(StdiolinkJobManager *self,
				    guint max_finished,
				    gint64 max_age_us)
{
	g_return_if_fail(STDIOLINK_IS_JOB_MANAGER(self));
	g_return_if_fail(max_age_us >= 0);

	self->max_finished = max_finished;
	self->max_age_us = max_age_us;
}

static void
forget_job(StdiolinkJobManager *self, StdiolinkJob *job)
{
	g_hash_table_remove(self->by_id, job->id);
	g_queue_remove(&self->jobs, job);
	g_object_unref(job);
}

static StdiolinkJob *
first_finished(StdiolinkJobManager *self, guint *n_finished)
{
	StdiolinkJob *first = NULL;

	*n_finished = 0;
	for (GList *l = self->jobs.head; l != NULL; l = l->next) {
		StdiolinkJob *job = l->data;

		if (!job_is_finished(job))
			continue;
		(*n_finished)++;
		if (first == NULL || job->finished_us < first->finished_us)
			first = job;
	}
	return first;
}

static void
prune(StdiolinkJobManager *self)
{
	gint64 now = g_get_monotonic_time();
	GList *l = self->jobs.head;
	StdiolinkJob *first;
	guint n_finished;

	/* too old */
	while (l != NULL) {
		StdiolinkJob *job = l->data;

		l = l->next;
		if (job_is_finished(job) && now - job->finished_us >= self->max_age_us)
			forget_job(self, job);
	}

	/* too many: the one that finished first goes first */
	first = first_finished(self, &n_finished);
	while (n_finished > self->max_finished) {
		forget_job(self, first);
		first = first_finished(self, &n_finished);
	}
}

static guint
count_active(StdiolinkJobManager *self)
{
	guint n = 0;

	for (GList *l = self->jobs.head; l != NULL; l = l->next) {
		if (!job_is_finished(l->data))
			n++;
	}
	return n;
}

static gboolean
waiter_is_ready(StdiolinkJobManager *self, Waiter *w)
{
	if (w->job != NULL)
		return job_is_finished(w->job);
	return count_active(self) == 0;
}

static void
waiter_complete(Waiter *w, GError *error)
{
	StdiolinkJobManager *self = w->manager;
	g_autoptr(GTask) task = w->task;
	g_autoptr(StdiolinkJob) job = w->job;

	self->waiters = g_list_remove(self->waiters, w);
	if (w->cancel_source != NULL) {
		g_source_destroy(w->cancel_source);
		g_source_unref(w->cancel_source);
	}
	g_free(w);

	if (error != NULL)
		g_task_return_error(task, error);
	else if (job != NULL)
		g_task_return_pointer(task, g_object_ref(job), g_object_unref);
	else
		g_task_return_boolean(task, TRUE);
}

static void
check_waiters(StdiolinkJobManager *self)
{
	GList *ready = NULL;
	GList *l = self->waiters;

	/* take them out first: a completion may run code that changes the list */
	while (l != NULL) {
		GList *next = l->next;

		if (waiter_is_ready(self, l->data)) {
			self->waiters = g_list_remove_link(self->waiters, l);
			ready = g_list_concat(l, ready);
		}
		l = next;
	}

	ready = g_list_reverse(ready);
	while (ready != NULL) {
		Waiter *w = ready->data;

		ready = g_list_delete_link(ready, ready);
		waiter_complete(w, NULL);
	}
}

static gboolean
waiter_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	Waiter *w = user_data;
	GError *error = NULL;

	g_cancellable_set_error_if_cancelled(cancellable, &error);
	waiter_complete(w, error);
	return G_SOURCE_REMOVE;
}

static void
add_waiter(StdiolinkJobManager *self, GTask *task, StdiolinkJob *job)
{
	GCancellable *cancellable = g_task_get_cancellable(task);
	Waiter *w = g_new0(Waiter, 1);

	w->manager = self;
	w->task = g_object_ref(task);
	w->job = job != NULL ? g_object_ref(job) : NULL;
	if (waiter_is_ready(self, w)) {
		waiter_complete(w, NULL);
		return;
	}

	if (cancellable != NULL) {
		w->cancel_source = g_cancellable_source_new(cancellable);
		g_source_set_callback(w->cancel_source, G_SOURCE_FUNC(waiter_cancelled_cb), w,
				      NULL);
		g_source_attach(w->cancel_source, g_task_get_context(task));
	}
	self->waiters = g_list_append(self->waiters, w);
}

static void
publish_outcome(StdiolinkJob *job)
{
	JsonObject *data = event_data(job);

	switch (job->status) {
	case STDIOLINK_JOB_SUCCEEDED:
		json_object_set_member(data, "result", result_node(job));
		publish(job, "job.finished", data);
		break;
	case STDIOLINK_JOB_FAILED:
		json_object_set_object_member(data, "error", error_to_json(job->error));
		publish(job, "job.failed", data);
		break;
	case STDIOLINK_JOB_CANCELED:
	case STDIOLINK_JOB_QUEUED:
	case STDIOLINK_JOB_RUNNING:
	case STDIOLINK_JOB_N_STATUS:
	default:
		publish(job, "job.canceled", data);
		break;
	}
}

static void
job_finish(StdiolinkJob *job, StdiolinkJobStatus status)
{
	g_autoptr(StdiolinkJob) keep = g_object_ref(job);
	g_autoptr(StdiolinkJobManager) manager = g_steal_pointer(&job->manager);

	job->status = status;
	job->finished_at = stdiolink_now_iso8601(TRUE);
	job->finished_us = g_get_monotonic_time();
	release_run_data(job);

	/* the terminal event, then the waiters: they may read every job's final state */
	publish_outcome(job);
	check_waiters(manager);
}

static void
run_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(StdiolinkJob) job = user_data;
	g_autoptr(GError) error = NULL;
	JsonNode *result = g_task_propagate_pointer(G_TASK(res), &error);

	g_clear_object(&job->task);
	if (error == NULL) {
		job->result = result;
		job_finish(job, STDIOLINK_JOB_SUCCEEDED);
		return;
	}

	/* a cancelled job ends canceled however its run reported the stop */
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
	    g_cancellable_is_cancelled(job->cancellable)) {
		job_finish(job, STDIOLINK_JOB_CANCELED);
		return;
	}

	job->error = g_steal_pointer(&error);
	job_finish(job, STDIOLINK_JOB_FAILED);
}

static gboolean
start_cb(gpointer user_data)
{
	StdiolinkJob *job = user_data;
	JsonObject *data = event_data(job);

	g_clear_pointer(&job->start_source, g_source_unref);
	job->status = STDIOLINK_JOB_RUNNING;
	job->started_at = stdiolink_now_iso8601(TRUE);
	json_object_set_object_member(data, "params", json_object_ref(job->params));
	publish(job, "job.started", data);

	job->task = g_task_new(job->manager, job->cancellable, run_done_cb, g_object_ref(job));
	g_task_set_source_tag(job->task, stdiolink_job_manager_submit);

	/* a run that completed in spite of a late cancel did its work: report what it did */
	g_task_set_check_cancellable(job->task, FALSE);
	job->run(job, job->task, job->run_data);
	return G_SOURCE_REMOVE;
}

static char *
new_job_id(StdiolinkJobManager *self)
{
	for (;;) {
		char *id = stdiolink_random_hex(JOB_ID_CHARS);

		if (!g_hash_table_contains(self->by_id, id))
			return id;
		g_free(id);
	}
}

static StdiolinkJob *
find_active(StdiolinkJobManager *self, const char *kind)
{
	for (GList *l = self->jobs.head; l != NULL; l = l->next) {
		StdiolinkJob *job = l->data;

		if (!job_is_finished(job) && g_str_equal(job->kind, kind))
			return job;
	}
	return NULL;
}

static gboolean
params_equal(JsonObject *a, JsonObject *b)
{
	g_autoptr(JsonNode) node_a = json_node_init_object(json_node_alloc(), a);
	g_autoptr(JsonNode) node_b = json_node_init_object(json_node_alloc(), b);

	return json_node_equal(node_a, node_b);
}

static StdiolinkJob *
join_active(StdiolinkJob *active,
	    JsonObject *params,
	    gboolean *existing,
	    StdiolinkJob **conflicting,
	    GError **error)
{
	if (params_equal(active->params, params)) {
		if (existing != NULL)
			*existing = TRUE;
		return g_object_ref(active);
	}

	if (conflicting != NULL)
		*conflicting = g_object_ref(active);
	g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_JOB_CONFLICT,
		    "a %s job with other parameters is running", active->kind);
	return NULL;
}

static StdiolinkJob *
job_new(StdiolinkJobManager *self, const char *kind, JsonObject *params)
{
	StdiolinkJob *job = g_object_new(STDIOLINK_TYPE_JOB, NULL);

	job->id = new_job_id(self);
	job->kind = g_strdup(kind);
	job->created_at = stdiolink_now_iso8601(TRUE);

	/* shared with every job object and event: nobody may change it */
	json_object_seal(params);
	job->params = json_object_ref(params);
	if (self->bus != NULL)
		job->bus = g_object_ref(self->bus);
	job->manager = g_object_ref(self);
	return job;
}

static void
schedule_start(StdiolinkJob *job)
{
	/* from an idle callback, so that `queued` is a state clients can see */
	job->start_source = g_idle_source_new();
	g_source_set_static_name(job->start_source, "stdiolink job start");
	g_source_set_callback(job->start_source, start_cb, g_object_ref(job), g_object_unref);
	g_source_attach(job->start_source, g_main_context_get_thread_default());
}

/**
 * stdiolink_job_manager_submit:
 * @self: a manager
 * @kind: the job kind, e.g. `drivers.scan`
 * @params: (nullable): the parameters, defaults filled in; sealed by this call; %NULL is `{}`
 * @run: starts the work once the job runs
 * @run_data: (closure run): data for @run
 * @run_data_free: (nullable): frees @run_data: after the job finished, or at once if no job
 *   was created
 * @existing: (out) (optional): set to %TRUE if the job returned was already there
 * @conflicting: (out) (optional) (transfer full): on %STDIOLINK_ERROR_JOB_CONFLICT, the
 *   queued or running job of @kind
 * @error: return location for a #GError
 *
 * Creates a queued job of @kind that starts running from an idle callback on the
 * thread-default main context (there `job.started` is published and @run called). If a
 * job of @kind is queued or running already, nothing is started: with equal @params
 * (json_node_equal()) that job is returned and @existing set; otherwise the call fails.
 *
 * Returns: (transfer full) (nullable): the job, or %NULL with %STDIOLINK_ERROR_JOB_CONFLICT
 */
StdiolinkJob *
stdiolink_job_manager_submit(StdiolinkJobManager *self,
			     const char *kind,
			     JsonObject *params,
			     StdiolinkJobRunFunc run,
			     gpointer run_data,
			     GDestroyNotify run_data_free,
			     gboolean *existing,
			     StdiolinkJob **conflicting,
			     GError **error)
{
	g_autoptr(JsonObject) owned = params != NULL ? json_object_ref(params) : json_object_new();
	StdiolinkJob *active;
	StdiolinkJob *job;

	g_return_val_if_fail(STDIOLINK_IS_JOB_MANAGER(self), NULL);
	g_return_val_if_fail(kind != NULL, NULL);
	g_return_val_if_fail(run != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (existing != NULL)
		*existing = FALSE;
	if (conflicting != NULL)
		*conflicting = NULL;
	prune(self);

	/* at most one queued or running job per kind */
	active = find_active(self, kind);
	if (active != NULL) {
		if (run_data_free != NULL)
			run_data_free(run_data);
		return join_active(active, owned, existing, conflicting, error);
	}

	job = job_new(self, kind, owned);
	job->run = run;
	job->run_data = run_data;
	job->run_data_free = run_data_free;
	g_queue_push_tail(&self->jobs, job);
	g_hash_table_insert(self->by_id, job->id, job);
	schedule_start(job);
	return g_object_ref(job);
}

/**
 * stdiolink_job_manager_lookup:
 * @self: a manager
 * @id: a job id
 *
 * Returns: (transfer none) (nullable): the job, or %NULL if there is none or it was
 *   forgotten; owned by @self until it is pruned, so take a reference to keep it across
 *   main loop iterations
 */
StdiolinkJob *
stdiolink_job_manager_lookup(StdiolinkJobManager *self, const char *id)
{
	g_return_val_if_fail(STDIOLINK_IS_JOB_MANAGER(self), NULL);
	g_return_val_if_fail(id != NULL, NULL);

	prune(self);
	return g_hash_table_lookup(self->by_id, id);
}

static gboolean
job_matches(StdiolinkJob *job, const char *kind, const StdiolinkJobStatus *status)
{
	if (kind != NULL && !g_str_equal(job->kind, kind))
		return FALSE;
	return status == NULL || job->status == *status;
}

/**
 * stdiolink_job_manager_list:
 * @self: a manager
 * @kind: (nullable): if non-empty, keep the jobs of this kind
 * @status: (nullable): if non-empty, keep the jobs with this status (`queued` ...)
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): `{"jobs":[job...]}`, oldest first, each as
 *   stdiolink_job_to_json(); %NULL with %STDIOLINK_ERROR_BAD_REQUEST for an unknown @status
 */
JsonNode *
stdiolink_job_manager_list(StdiolinkJobManager *self,
			   const char *kind,
			   const char *status,
			   GError **error)
{
	StdiolinkJobStatus wanted = STDIOLINK_JOB_QUEUED;
	gboolean by_status = status != NULL && *status != '\0';
	JsonArray *jobs;
	JsonObject *obj;

	g_return_val_if_fail(STDIOLINK_IS_JOB_MANAGER(self), NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (by_status && !status_from_string(status, &wanted)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "unknown job status: %s", status);
		return NULL;
	}
	if (kind != NULL && *kind == '\0')
		kind = NULL;

	prune(self);
	jobs = json_array_new();
	for (GList *l = self->jobs.head; l != NULL; l = l->next) {
		if (job_matches(l->data, kind, by_status ? &wanted : NULL))
			json_array_add_element(jobs, stdiolink_job_to_json(l->data));
	}

	obj = json_object_new();
	json_object_set_array_member(obj, "jobs", jobs);
	return stdiolink_json_node_new_object(obj);
}

static void
cancel_job(StdiolinkJob *job)
{
	/* a running job stops when its run sees the cancellable; a queued one never runs */
	g_cancellable_cancel(job->cancellable);
	if (job->status != STDIOLINK_JOB_QUEUED)
		return;

	g_source_destroy(job->start_source);
	g_clear_pointer(&job->start_source, g_source_unref);
	job_finish(job, STDIOLINK_JOB_CANCELED);
}

/**
 * stdiolink_job_manager_cancel:
 * @self: a manager
 * @id: a job id
 * @error: return location for a #GError
 *
 * Cancels a job. A queued job is canceled at once and never runs; a running job has its
 * cancellable cancelled and becomes canceled when its run returns (or succeeded or failed,
 * if the work was already done).
 *
 * Returns: %TRUE if the job was queued or running; %FALSE with %STDIOLINK_ERROR_NOT_FOUND
 *   for an unknown id, %STDIOLINK_ERROR_CONFLICT if it has already finished
 */
gboolean
stdiolink_job_manager_cancel(StdiolinkJobManager *self, const char *id, GError **error)
{
	StdiolinkJob *job;

	g_return_val_if_fail(STDIOLINK_IS_JOB_MANAGER(self), FALSE);
	g_return_val_if_fail(id != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	prune(self);
	job = g_hash_table_lookup(self->by_id, id);
	if (job == NULL) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
				    "job not found");
		return FALSE;
	}
	if (job_is_finished(job)) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT,
				    "job has already finished");
		return FALSE;
	}
	if (job->uncancelable) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT,
				    "job cannot be canceled");
		return FALSE;
	}

	cancel_job(job);
	return TRUE;
}

/**
 * stdiolink_job_manager_wait_async:
 * @self: a manager
 * @job: one of its jobs
 * @cancellable: (nullable): stops the wait (not the job)
 * @callback: called once @job has finished; at once (from the main loop) if it has
 * @user_data: data for @callback
 *
 * Waits, without blocking, for @job to reach succeeded, failed or canceled. Waiters are
 * answered after the job's terminal event was published.
 */
void
stdiolink_job_manager_wait_async(StdiolinkJobManager *self,
				 StdiolinkJob *job,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(STDIOLINK_IS_JOB_MANAGER(self));
	g_return_if_fail(STDIOLINK_IS_JOB(job));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, stdiolink_job_manager_wait_async);
	add_waiter(self, task, job);
}

/**
 * stdiolink_job_manager_wait_finish:
 * @self: a manager
 * @res: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the finished job; %NULL with %G_IO_ERROR_CANCELLED
 *   if the wait was cancelled
 */
StdiolinkJob *
stdiolink_job_manager_wait_finish(StdiolinkJobManager *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

/**
 * stdiolink_job_manager_count_by_status:
 * @self: a manager
 * @counts: (out caller-allocates) (array fixed-size=5): filled with the number of kept jobs
 *   in each status, indexed by #StdiolinkJobStatus
 *
 * For metrics. Prunes first, so forgotten jobs are not counted.
 */
void
stdiolink_job_manager_count_by_status(StdiolinkJobManager *self,
				      guint counts[STDIOLINK_JOB_N_STATUS])
{
	g_return_if_fail(STDIOLINK_IS_JOB_MANAGER(self));
	g_return_if_fail(counts != NULL);

	prune(self);
	for (guint i = 0; i < STDIOLINK_JOB_N_STATUS; i++)
		counts[i] = 0;
	for (GList *l = self->jobs.head; l != NULL; l = l->next) {
		StdiolinkJob *job = l->data;

		counts[job->status]++;
	}
}

static GPtrArray *
active_jobs(StdiolinkJobManager *self)
{
	GPtrArray *active = g_ptr_array_new_with_free_func(g_object_unref);

	for (GList *l = self->jobs.head; l != NULL; l = l->next) {
		if (!job_is_finished(l->data))
			g_ptr_array_add(active, g_object_ref(l->data));
	}
	return active;
}

/**
 * stdiolink_job_manager_shutdown_async:
 * @self: a manager
 * @cancellable: (nullable): stops the wait (the jobs stay cancelled)
 * @callback: called once no job is queued or running
 * @user_data: data for @callback
 *
 * Cancels every queued and running job, then waits, without blocking, until all of them
 * have finished. Jobs submitted meanwhile are waited for too.
 */
void
stdiolink_job_manager_shutdown_async(StdiolinkJobManager *self,
				     GCancellable *cancellable,
				     GAsyncReadyCallback callback,
				     gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GPtrArray) active = NULL;

	g_return_if_fail(STDIOLINK_IS_JOB_MANAGER(self));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, stdiolink_job_manager_shutdown_async);

	/* cancelling a queued job finishes it at once, so work on a copy of the list */
	active = active_jobs(self);
	for (guint i = 0; i < active->len; i++)
		cancel_job(g_ptr_array_index(active, i));
	add_waiter(self, task, NULL);
}

/**
 * stdiolink_job_manager_shutdown_finish:
 * @self: a manager
 * @res: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE once no job was queued or running; %FALSE with %G_IO_ERROR_CANCELLED if
 *   the wait was cancelled
 */
gboolean
stdiolink_job_manager_shutdown_finish(StdiolinkJobManager *self,
				      GAsyncResult *res,
				      GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}
