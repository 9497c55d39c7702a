#include "config.h"

#include <errno.h>
#include <sys/utsname.h>

#include "stdiolink-driver-scan.h"
#include "stdiolink-engine-private.h"
#include "stdiolink-error.h"
#include "stdiolink-json.h"

/*
 * The two scans as jobs (DESIGN.md, Jobs; scanning.md). A scan reads the disk in a worker
 * thread into a private result and commits it here, on the main thread, in one step. The
 * commit checks for cancellation first, so a cancelled job commits nothing.
 *
 * The start-up load is a services scan too: it also reads the projects and arms all
 * scheduling, so that the daemon can listen before the data root is loaded.
 */

#define KIND_DRIVERS "drivers.scan"
#define KIND_SERVICES "services.scan"

/* what a job's run function needs; freed with the job */
typedef struct {
	StdiolinkEngine *engine;
	gboolean startup;
} ScanRequest;

/* one running scan: the job's task and where to commit */
typedef struct {
	GTask *task;
	StdiolinkEngine *engine;
	StdiolinkJob *job;
} ScanRun;

static ScanRun *
scan_run_new(StdiolinkJob *job, GTask *task, ScanRequest *request)
{
	ScanRun *run = g_new0(ScanRun, 1);

	run->task = g_object_ref(task);
	run->engine = request->engine;
	run->job = g_object_ref(job);
	return run;
}

static void
scan_run_free(ScanRun *run)
{
	g_object_unref(run->task);
	g_object_unref(run->job);
	g_free(run);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScanRun, scan_run_free)

/* ---- parameters -------------------------------------------------------------------- */

/* copies the bool @name of @body into @params, or @fallback when @body lacks it */
static gboolean
read_flag(JsonObject *body, const char *name, gboolean fallback, JsonObject *params,
	  GError **error)
{
	JsonNode *node = body != NULL ? json_object_get_member(body, name) : NULL;

	if (node == NULL) {
		json_object_set_boolean_member(params, name, fallback);
		return TRUE;
	}
	if (!stdiolink_json_node_is_bool(node)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "field '%s' must be a bool", name);
		return FALSE;
	}
	json_object_set_boolean_member(params, name, json_node_get_boolean(node));
	return TRUE;
}

/* the job parameters of a services scan, defaults filled (http-api.md 4.3) */
static JsonObject *
service_scan_params(JsonObject *body, GError **error)
{
	g_autoptr(JsonObject) params = json_object_new();

	if (!read_flag(body, "revalidateProjects", TRUE, params, error) ||
	    !read_flag(body, "restartScheduling", TRUE, params, error) ||
	    !read_flag(body, "stopInvalidProjects", FALSE, params, error))
		return NULL;
	return g_steal_pointer(&params);
}

/* the job parameters of a driver scan, defaults filled (http-api.md 7.3) */
static JsonObject *
driver_scan_params(JsonObject *body, GError **error)
{
	g_autoptr(JsonObject) params = json_object_new();

	if (!read_flag(body, "refreshMeta", TRUE, params, error))
		return NULL;
	return g_steal_pointer(&params);
}

/* ---- drivers.scan ------------------------------------------------------------------ */

static void
driver_progress_cb(guint done, guint total, const char *dir_name, gpointer user_data)
{
	stdiolink_job_set_progress(STDIOLINK_JOB(user_data), done, total);
}

static JsonNode *
driver_stats_json(const StdiolinkDriverScanStats *stats)
{
	JsonObject *root = json_object_new();

	json_object_set_int_member(root, "scanned", stats->scanned);
	json_object_set_int_member(root, "updated", stats->updated);
	json_object_set_int_member(root, "newlyFailed", stats->newly_failed);
	json_object_set_int_member(root, "skippedFailed", stats->skipped_failed);
	return stdiolink_json_node_new_object(root);
}

/* @failures: (nullable): none yet */
static JsonNode *
driver_failures_json(GPtrArray *failures)
{
	JsonArray *list = json_array_new();
	JsonNode *node = json_node_new(JSON_NODE_ARRAY);

	for (guint i = 0; failures != NULL && i < failures->len; i++) {
		StdiolinkDriverScanFailure *failure = g_ptr_array_index(failures, i);
		JsonObject *item = json_object_new();

		json_object_set_string_member(item, "dir", failure->dir_name);
		json_object_set_string_member(item, "code", failure->code);
		json_object_set_string_member(item, "message", failure->message);
		json_array_add_object_element(list, item);
	}
	json_node_take_array(node, list);
	return node;
}

/* the scan result replaces the whole catalogue (scanning.md 3.4) */
static void
commit_drivers(StdiolinkEngine *self, GPtrArray *drivers)
{
	g_hash_table_remove_all(self->drivers);
	for (guint i = 0; i < drivers->len; i++) {
		StdiolinkDriver *drv = g_ptr_array_index(drivers, i);

		g_hash_table_replace(self->drivers, g_strdup(stdiolink_driver_get_id(drv)),
				     g_object_ref(drv));
	}
}

static void
drivers_scanned_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(ScanRun) run = user_data;
	StdiolinkDriverScanResult *result;
	GError *error = NULL;

	result = stdiolink_driver_scan_finish(res, &error);
	if (result == NULL) {
		g_task_return_error(run->task, error);
		return;
	}
	stdiolink_job_set_detail(run->job, "failures", driver_failures_json(result->failures));

	/*
	 * No cancellation check here: the scan honours one until it starts renaming folders
	 * and returns a result only past that point, so the catalogue must follow the disk.
	 */
	commit_drivers(run->engine, result->drivers);
	g_message("job %s: drivers: %u scanned, %u loaded, %u newly failed, %u failed skipped",
		  stdiolink_job_get_id(run->job), result->stats.scanned,
		  g_hash_table_size(run->engine->drivers), result->stats.newly_failed,
		  result->stats.skipped_failed);
	g_task_return_pointer(run->task, driver_stats_json(&result->stats),
			      (GDestroyNotify)json_node_unref);
	stdiolink_driver_scan_result_free(result);
}

static void
run_driver_scan(StdiolinkJob *job, GTask *task, gpointer run_data)
{
	ScanRequest *request = run_data;
	StdiolinkEngine *self = request->engine;
	JsonObject *params = stdiolink_job_get_params(job);
	StdiolinkDriverScanOptions options = {
		.refresh_meta = json_object_get_boolean_member(params, "refreshMeta"),
		.parallelism = self->config->scan_parallelism,
		.timeout_ms = self->config->scan_timeout_ms,
		.path_prefix = self->self_exe_dir,
	};

	stdiolink_driver_scan_async(self->drivers_dir, &options, driver_progress_cb, job,
				    g_task_get_cancellable(task), drivers_scanned_cb,
				    scan_run_new(job, task, request));
}

/* ---- services.scan: the worker thread ---------------------------------------------- */

/* the disk as a services scan saw it; owned by the worker until the commit */
typedef struct {
	gboolean startup;
	char *services_dir;
	char *projects_dir;
	char *logs_dir;
	GPtrArray *services;
	StdiolinkServiceScanStats stats;
	GPtrArray *projects; /* start-up only */
	char *platform;	     /* start-up only */
} ServiceScan;

static void
service_scan_free(ServiceScan *scan)
{
	g_free(scan->services_dir);
	g_free(scan->projects_dir);
	g_free(scan->logs_dir);
	g_clear_pointer(&scan->services, g_ptr_array_unref);
	g_clear_pointer(&scan->projects, g_ptr_array_unref);
	g_free(scan->platform);
	g_free(scan);
}

static char *
read_platform(void)
{
	g_autofree char *os_release = NULL;
	g_autofree char *os_id = NULL;
	struct utsname uts;

	/* os-release ID, as the earlier server reported it, e.g. "debian x86_64" */
	if (g_file_get_contents("/etc/os-release", &os_release, NULL, NULL)) {
		g_auto(GStrv) lines = g_strsplit(os_release, "\n", -1);

		for (guint i = 0; lines[i] != NULL && os_id == NULL; i++) {
			if (g_str_has_prefix(lines[i], "ID="))
				os_id = g_shell_unquote(lines[i] + 3, NULL);
		}
	}
	if (uname(&uts) != 0)
		return g_strdup(os_id != NULL ? os_id : "linux");
	return g_strdup_printf("%s %s", os_id != NULL ? os_id : "linux", uts.machine);
}

static StdiolinkService *
find_service_in(GPtrArray *services, const char *id)
{
	for (guint i = 0; i < services->len; i++) {
		StdiolinkService *svc = g_ptr_array_index(services, i);

		if (g_strcmp0(stdiolink_service_get_id(svc), id) == 0)
			return svc;
	}
	return NULL;
}

/* start-up: the projects are still private to the worker, so they are validated here */
static void
load_projects(ServiceScan *scan)
{
	scan->projects = stdiolink_project_load_all(scan->projects_dir);
	for (guint i = 0; i < scan->projects->len; i++) {
		StdiolinkProject *project = g_ptr_array_index(scan->projects, i);
		const char *service_id = stdiolink_project_get_service_id(project);
		StdiolinkService *svc = find_service_in(scan->services, service_id);

		stdiolink_project_validate(project, svc != NULL ? service_id : NULL,
					   svc != NULL ? stdiolink_service_get_schema(svc) : NULL);
	}
}

static void
service_scan_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	ServiceScan *scan = task_data;
	const char *dirs[] = {scan->services_dir, scan->projects_dir, scan->logs_dir};
	GError *error = NULL;

	/* the daemon creates these three, never drivers/ */
	for (guint i = 0; scan->startup && i < G_N_ELEMENTS(dirs); i++) {
		if (g_mkdir_with_parents(dirs[i], 0755) != 0) {
			g_task_return_new_error(task, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
						"cannot create directory %s: %s", dirs[i],
						g_strerror(errno));
			return;
		}
	}

	scan->services = stdiolink_service_scan(scan->services_dir, &scan->stats, &error);
	if (scan->services == NULL) {
		g_task_return_error(task, error);
		return;
	}
	if (scan->startup) {
		load_projects(scan);
		scan->platform = read_platform();
	}
	g_task_return_boolean(task, TRUE);
}

/* ---- services.scan: the commit ------------------------------------------------------ */

/* the counters of http-api.md 4.3 */
typedef struct {
	guint added;
	guint removed;
	guint updated;
	guint unchanged;
	guint revalidated;
	guint became_valid;
	guint became_invalid;
	guint remained_invalid;
	JsonArray *invalid; /* ids, in id order */
} ServiceCounts;

static gboolean
raw_schemas_equal(StdiolinkService *a, StdiolinkService *b)
{
	g_autoptr(JsonNode) node_a = json_node_new(JSON_NODE_OBJECT);
	g_autoptr(JsonNode) node_b = json_node_new(JSON_NODE_OBJECT);

	json_node_set_object(node_a, stdiolink_service_get_raw_schema(a));
	json_node_set_object(node_b, stdiolink_service_get_raw_schema(b));
	return stdiolink_json_equal(node_a, node_b);
}

/* scanning.md 2.2: description, author and index.js do not count */
static gboolean
service_changed(StdiolinkService *old, StdiolinkService *fresh)
{
	return g_strcmp0(stdiolink_service_get_name(old), stdiolink_service_get_name(fresh)) != 0 ||
	       g_strcmp0(stdiolink_service_get_version(old),
			 stdiolink_service_get_version(fresh)) != 0 ||
	       g_strcmp0(stdiolink_service_get_dir(old), stdiolink_service_get_dir(fresh)) != 0 ||
	       !raw_schemas_equal(old, fresh);
}

/*
 * Replaces the service table with @services, counts what changed and returns the ids of
 * the services that were added, removed or updated (as a set).
 */
static GHashTable *
replace_services(StdiolinkEngine *self, GPtrArray *services, ServiceCounts *counts)
{
	GHashTable *changed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) old = g_steal_pointer(&self->services);
	GHashTableIter iter;
	gpointer key;

	self->services = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	for (guint i = 0; i < services->len; i++) {
		StdiolinkService *svc = g_ptr_array_index(services, i);
		const char *id = stdiolink_service_get_id(svc);
		StdiolinkService *before = g_hash_table_lookup(old, id);
		gboolean differs = before != NULL && service_changed(before, svc);

		if (before == NULL)
			counts->added++;
		else if (differs)
			counts->updated++;
		else
			counts->unchanged++;
		if (before == NULL || differs)
			g_hash_table_add(changed, g_strdup(id));
		g_hash_table_insert(self->services, g_strdup(id), g_object_ref(svc));
	}

	g_hash_table_iter_init(&iter, old);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (!g_hash_table_contains(self->services, key)) {
			counts->removed++;
			g_hash_table_add(changed, g_strdup(key));
		}
	}
	return changed;
}

/* counts one project's validity before and after (scanning.md 2.2) */
static gboolean
count_validity(ServiceCounts *counts, const char *id, gboolean before, gboolean after)
{
	counts->revalidated++;
	if (!after)
		json_array_add_string_element(counts->invalid, id);
	if (!before && after)
		counts->became_valid++;
	else if (before && !after)
		counts->became_invalid++;
	else if (!before && !after)
		counts->remained_invalid++;
	return before != after;
}

/* revalidates every project in memory; returns the ids whose validity changed (a set) */
static GHashTable *
revalidate_projects(StdiolinkEngine *self, ServiceCounts *counts)
{
	GHashTable *flipped = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) ids = stdiolink_engine_sorted_keys(self->projects);

	for (guint i = 0; i < ids->len; i++) {
		StdiolinkProject *project = g_hash_table_lookup(self->projects, ids->pdata[i]);
		gboolean before = stdiolink_project_get_valid(project);

		stdiolink_engine_validate_in_place(self, project);
		if (count_validity(counts, ids->pdata[i], before,
				   stdiolink_project_get_valid(project)))
			g_hash_table_add(flipped, g_strdup(ids->pdata[i]));
	}
	return flipped;
}

/* start-up: the projects arrive validated; each counts as going from "not loaded" */
static void
replace_projects(StdiolinkEngine *self, GPtrArray *projects, ServiceCounts *counts)
{
	g_autoptr(GPtrArray) ids = NULL;

	g_hash_table_remove_all(self->projects);
	for (guint i = 0; i < projects->len; i++) {
		StdiolinkProject *project = g_ptr_array_index(projects, i);

		g_hash_table_insert(self->projects, g_strdup(stdiolink_project_get_id(project)),
				    g_object_ref(project));
	}

	ids = stdiolink_engine_sorted_keys(self->projects);
	for (guint i = 0; i < ids->len; i++) {
		StdiolinkProject *project = g_hash_table_lookup(self->projects, ids->pdata[i]);

		count_validity(counts, ids->pdata[i], FALSE, stdiolink_project_get_valid(project));
	}
}

/*
 * DESIGN.md: a rescan re-arms only the projects whose service or validity changed, so a
 * scan does not lift the suppression of every crash loop. At start-up all are armed.
 */
static void
rearm_projects(StdiolinkEngine *self, GHashTable *changed_services, GHashTable *flipped)
{
	g_autoptr(GPtrArray) ids = stdiolink_engine_sorted_keys(self->projects);

	for (guint i = 0; i < ids->len; i++) {
		StdiolinkProject *project = g_hash_table_lookup(self->projects, ids->pdata[i]);
		const char *service_id = stdiolink_project_get_service_id(project);

		if (changed_services == NULL ||
		    g_hash_table_contains(changed_services, service_id) ||
		    g_hash_table_contains(flipped, ids->pdata[i]))
			stdiolink_engine_arm_project(self, project);
	}
}

/* stopInvalidProjects: no scheduling, and the instances are told to stop */
static void
stop_invalid_projects(StdiolinkEngine *self, JsonArray *invalid)
{
	for (guint i = 0; i < json_array_get_length(invalid); i++) {
		const char *id = json_array_get_string_element(invalid, i);

		stdiolink_scheduler_stop_project(self->scheduler, id);
		stdiolink_instance_manager_terminate_project(self->instances, id);
	}
}

static JsonNode *
service_counts_json(const StdiolinkServiceScanStats *stats,
		    ServiceCounts *counts,
		    gboolean restarted)
{
	JsonObject *root = json_object_new();

	json_object_set_int_member(root, "scannedDirs", stats->scanned_dirs);
	json_object_set_int_member(root, "loadedServices", stats->loaded_services);
	json_object_set_int_member(root, "failedServices", stats->failed_services);
	json_object_set_int_member(root, "added", counts->added);
	json_object_set_int_member(root, "removed", counts->removed);
	json_object_set_int_member(root, "updated", counts->updated);
	json_object_set_int_member(root, "unchanged", counts->unchanged);
	json_object_set_int_member(root, "revalidatedProjects", counts->revalidated);
	json_object_set_int_member(root, "becameValid", counts->became_valid);
	json_object_set_int_member(root, "becameInvalid", counts->became_invalid);
	json_object_set_int_member(root, "remainedInvalid", counts->remained_invalid);
	json_object_set_boolean_member(root, "schedulingRestarted", restarted);
	json_object_set_array_member(root, "invalidProjects", json_array_ref(counts->invalid));
	return stdiolink_json_node_new_object(root);
}

/* start-up: services, projects and platform in place, every project armed */
static void
commit_startup(StdiolinkEngine *self, ServiceScan *scan, ServiceCounts *counts)
{
	g_autoptr(GHashTable) changed = replace_services(self, scan->services, counts);

	replace_projects(self, scan->projects, counts);
	g_free(self->platform);
	self->platform = g_steal_pointer(&scan->platform);
	rearm_projects(self, NULL, NULL);
	self->loaded = TRUE;

	g_message("services: %u loaded, %u failed", scan->stats.loaded_services,
		  scan->stats.failed_services);
	g_message("projects: %u loaded, %u invalid", scan->projects->len,
		  json_array_get_length(counts->invalid));
}

/* a rescan with the request's flags (scanning.md 2.2) */
static gboolean
commit_rescan(StdiolinkEngine *self, ServiceScan *scan, JsonObject *params,
	      ServiceCounts *counts)
{
	g_autoptr(GHashTable) changed = replace_services(self, scan->services, counts);
	g_autoptr(GHashTable) flipped = NULL;
	gboolean restart = json_object_get_boolean_member(params, "restartScheduling");

	if (json_object_get_boolean_member(params, "revalidateProjects"))
		flipped = revalidate_projects(self, counts);
	else
		flipped = g_hash_table_new(g_str_hash, g_str_equal);
	if (json_object_get_boolean_member(params, "stopInvalidProjects"))
		stop_invalid_projects(self, counts->invalid);
	if (restart)
		rearm_projects(self, changed, flipped);

	g_message("services rescanned: %u added, %u removed, %u updated, %u unchanged",
		  counts->added, counts->removed, counts->updated, counts->unchanged);
	return restart;
}

static void
services_scanned_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(ScanRun) run = user_data;
	ServiceScan *scan = g_task_get_task_data(G_TASK(res));
	ServiceCounts counts = {0};
	GError *error = NULL;
	gboolean restarted = TRUE;

	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		g_task_return_error(run->task, error);
		return;
	}
	if (g_task_return_error_if_cancelled(run->task))
		return;

	stdiolink_job_set_progress(run->job, 1, 1);
	counts.invalid = json_array_new();
	if (scan->startup)
		commit_startup(run->engine, scan, &counts);
	else
		restarted = commit_rescan(run->engine, scan, stdiolink_job_get_params(run->job),
					  &counts);
	g_task_return_pointer(run->task, service_counts_json(&scan->stats, &counts, restarted),
			      (GDestroyNotify)json_node_unref);
	json_array_unref(counts.invalid);
}

static void
run_service_scan(StdiolinkJob *job, GTask *task, gpointer run_data)
{
	ScanRequest *request = run_data;
	StdiolinkEngine *self = request->engine;
	ServiceScan *scan = g_new0(ServiceScan, 1);
	g_autoptr(GTask) worker = NULL;

	/* one step: the folders are read in one go, then committed */
	stdiolink_job_set_progress(job, 0, 1);
	scan->startup = request->startup;
	scan->services_dir = g_strdup(self->services_dir);
	scan->projects_dir = g_strdup(self->projects_dir);
	scan->logs_dir = g_strdup(self->logs_dir);

	worker = g_task_new(self, g_task_get_cancellable(task), services_scanned_cb,
			    scan_run_new(job, task, request));
	g_task_set_task_data(worker, scan, (GDestroyNotify)service_scan_free);
	g_task_run_in_thread(worker, service_scan_thread);
}

/* ---- submitting -------------------------------------------------------------------- */

static StdiolinkJob *
submit(StdiolinkEngine *self,
       const char *kind,
       JsonObject *params,
       StdiolinkJobRunFunc run,
       gboolean startup,
       gboolean *existing,
       StdiolinkJob **conflicting,
       GError **error)
{
	ScanRequest *request = g_new0(ScanRequest, 1);
	gboolean found = FALSE;
	StdiolinkJob *job;

	request->engine = self;
	request->startup = startup;
	job = stdiolink_job_manager_submit(self->jobs, kind, params, run, request, g_free, &found,
					   conflicting, error);
	if (existing != NULL)
		*existing = found;

	/* a driver scan always lists its failures, none until it has run */
	if (job != NULL && !found && g_str_equal(kind, KIND_DRIVERS))
		stdiolink_job_set_detail(job, "failures", driver_failures_json(NULL));
	return job;
}

/**
 * stdiolink_engine_scan_drivers:
 * @self: the engine
 * @body: (nullable): the request body; `refreshMeta` (bool, default true)
 * @existing: (out) (optional): set to %TRUE when an equal scan was already queued or
 *   running and is returned instead
 * @conflicting: (out) (optional) (transfer full): the running driver scan when it has
 *   other parameters
 * @error: return location for a #GError
 *
 * Submits a `drivers.scan` job: every driver folder's metadata is exported again (with
 * `refreshMeta`) in parallel, and the catalogue is replaced when the job succeeds.
 *
 * Returns: (transfer full): the job, or %NULL with %STDIOLINK_ERROR_BAD_REQUEST for a bad
 *   flag or %STDIOLINK_ERROR_JOB_CONFLICT
 */
StdiolinkJob *
stdiolink_engine_scan_drivers(StdiolinkEngine *self,
			      JsonObject *body,
			      gboolean *existing,
			      StdiolinkJob **conflicting,
			      GError **error)
{
	g_autoptr(JsonObject) params = driver_scan_params(body, error);

	if (params == NULL)
		return NULL;
	return submit(self, KIND_DRIVERS, params, run_driver_scan, FALSE, existing, conflicting,
		      error);
}

/**
 * stdiolink_engine_scan_services:
 * @self: the engine
 * @body: (nullable): the request body; `revalidateProjects`, `restartScheduling`,
 *   `stopInvalidProjects` (bools)
 * @existing: (out) (optional): set to %TRUE when an equal scan is returned instead
 * @conflicting: (out) (optional) (transfer full): the running services scan when it has
 *   other parameters
 * @error: return location for a #GError
 *
 * Submits a `services.scan` job (scanning.md 2.2). Its result is the statistics object of
 * `POST /api/services/scan`.
 *
 * Returns: (transfer full): the job, or %NULL with @error set
 */
StdiolinkJob *
stdiolink_engine_scan_services(StdiolinkEngine *self,
			       JsonObject *body,
			       gboolean *existing,
			       StdiolinkJob **conflicting,
			       GError **error)
{
	g_autoptr(JsonObject) params = service_scan_params(body, error);

	if (params == NULL)
		return NULL;
	return submit(self, KIND_SERVICES, params, run_service_scan, FALSE, existing,
		      conflicting, error);
}

/* ---- start-up ---------------------------------------------------------------------- */

static void
startup_waited_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	g_autoptr(StdiolinkJob) job = NULL;
	GError *error = NULL;

	job = stdiolink_job_manager_wait_finish(STDIOLINK_JOB_MANAGER(source), res, &error);
	if (job == NULL) {
		g_task_return_error(task, error);
		return;
	}
	switch (stdiolink_job_get_status(job)) {
	case STDIOLINK_JOB_SUCCEEDED:
		g_task_return_boolean(task, TRUE);
		break;
	case STDIOLINK_JOB_FAILED:
		g_task_return_error(task, g_error_copy(stdiolink_job_get_error(job)));
		break;
	default:
		g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
					"the start-up scan was cancelled");
		break;
	}
}

/**
 * stdiolink_engine_load_async:
 * @self: the engine
 * @cancellable: (nullable): a #GCancellable
 * @callback: called on the calling thread when the services and projects are loaded
 * @user_data: for @callback
 *
 * Submits the start-up scans as ordinary jobs: a `services.scan` that also creates the
 * data root's folders, loads and validates the projects and arms their scheduling, and a
 * `drivers.scan` with `refreshMeta`. @callback runs when the services scan has ended; the
 * driver scan goes on in the background.
 */
void
stdiolink_engine_load_async(StdiolinkEngine *self,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autoptr(JsonObject) service_params = service_scan_params(NULL, NULL);
	g_autoptr(JsonObject) driver_params = driver_scan_params(NULL, NULL);
	g_autoptr(StdiolinkJob) services = NULL;
	g_autoptr(StdiolinkJob) drivers = NULL;
	GError *error = NULL;

	g_task_set_source_tag(task, stdiolink_engine_load_async);
	services = submit(self, KIND_SERVICES, service_params, run_service_scan, TRUE, NULL, NULL,
			  &error);
	if (services == NULL) {
		g_task_return_error(task, error);
		return;
	}

	/* the daemon cannot serve without its data root; only a shutdown stops this one */
	stdiolink_job_set_cancelable(services, FALSE);
	drivers = submit(self, KIND_DRIVERS, driver_params, run_driver_scan, FALSE, NULL, NULL,
			 NULL);
	stdiolink_job_manager_wait_async(self->jobs, services, cancellable, startup_waited_cb,
					 g_steal_pointer(&task));
}

/**
 * stdiolink_engine_load_finish:
 * @self: the engine
 * @res: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE once the data root's services and projects are in place
 */
gboolean
stdiolink_engine_load_finish(StdiolinkEngine *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/**
 * stdiolink_engine_is_loaded:
 * @self: the engine
 *
 * Returns: whether the start-up services scan has put the data root in place; until then
 *   the daemon refuses changes with %STDIOLINK_ERROR_UNAVAILABLE
 */
gboolean
stdiolink_engine_is_loaded(StdiolinkEngine *self)
{
	return self->loaded;
}

/**
 * stdiolink_engine_get_job_manager:
 * @self: the engine
 *
 * Returns: (transfer none): the jobs of this engine
 */
StdiolinkJobManager *
stdiolink_engine_get_job_manager(StdiolinkEngine *self)
{
	return self->jobs;
}
