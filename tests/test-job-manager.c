#include "config.h"

#include <string.h>

#include "sl-test-utils.h"
#include "stdiolink.h"

/*
 * The job manager with real run functions: each run advances from a 1 ms timeout, reports
 * progress, and ends the way its Script says. Events go through a real event bus writing
 * to a temporary folder.
 */

typedef enum {
	OUTCOME_RESULT,		 /* {"scanned": steps} */
	OUTCOME_STDIOLINK_ERROR, /* scan_timeout */
	OUTCOME_OTHER_ERROR,	 /* a G_IO_ERROR that is not cancellation */
	OUTCOME_CANCELLED,	 /* G_IO_ERROR_CANCELLED without being asked */
} Outcome;

typedef struct {
	guint steps;		     /* progress steps before the outcome */
	gboolean hold;		     /* after the steps, keep running until release */
	gboolean release;
	Outcome outcome;
	gboolean cancel_other_error; /* on cancellation, return a plain error */
	gboolean ignore_cancel;	     /* finish with the outcome even when cancelled */

	/* what happened */
	guint calls;
	guint freed;
	gboolean saw_cancel;
	StdiolinkJobStatus status_in_run;
} Script;

typedef struct {
	Script *script;
	GTask *task;
	StdiolinkJob *job;
	guint step;
} Run;

typedef struct {
	char *type;
	JsonObject *data;
} Event;

typedef struct {
	char *root;
	char *events_path;
	StdiolinkEventBus *bus;
	StdiolinkJobManager *jobs;
	GPtrArray *events; /* Event, the job.* events in publish order */
} Fixture;

static void
event_free(Event *ev)
{
	g_free(ev->type);
	json_object_unref(ev->data);
	g_free(ev);
}

static void
event_cb(StdiolinkEventBus *bus, const char *type, JsonObject *data, const char *ts, Fixture *f)
{
	Event *ev;

	if (!g_str_has_prefix(type, "job."))
		return;
	ev = g_new0(Event, 1);
	ev->type = g_strdup(type);
	ev->data = json_object_ref(data);
	g_ptr_array_add(f->events, ev);
}

static void
spin_until_history(StdiolinkEventBus *bus)
{
	while (!stdiolink_event_bus_is_history_loaded(bus))
		g_main_context_iteration(NULL, TRUE);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	f->root = sl_test_make_tmp_dir("sl-jobs-XXXXXX");
	f->events_path = g_build_filename(f->root, "logs", "events.jsonl", NULL);
	f->bus = stdiolink_event_bus_new(f->events_path);
	spin_until_history(f->bus);
	f->events = g_ptr_array_new_with_free_func((GDestroyNotify)event_free);
	g_signal_connect(f->bus, "event", G_CALLBACK(event_cb), f);
	f->jobs = stdiolink_job_manager_new(f->bus);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	/* each test leaves its jobs finished: the manager goes at once */
	g_object_add_weak_pointer(G_OBJECT(f->jobs), (gpointer *)&f->jobs);
	g_object_unref(f->jobs);
	while (g_main_context_pending(NULL))
		g_main_context_iteration(NULL, FALSE);
	g_assert_null(f->jobs);

	sl_test_flush_bus(f->bus);
	g_clear_object(&f->bus);
	g_ptr_array_unref(f->events);
	g_assert_true(sl_test_remove_tree(f->root));
	g_free(f->events_path);
	g_free(f->root);
}

/* ---- the run function ---------------------------------------------------------------- */

static void
run_free(gpointer data)
{
	Run *run = data;

	g_object_unref(run->task);
	g_object_unref(run->job);
	g_free(run);
}

static void
script_free(gpointer data)
{
	Script *script = data;

	script->freed++;
}

static void
run_return_outcome(Run *run)
{
	JsonObject *result;

	switch (run->script->outcome) {
	case OUTCOME_RESULT:
		result = json_object_new();
		json_object_set_int_member(result, "scanned", run->script->steps);
		g_task_return_pointer(run->task, stdiolink_json_node_new_object(result),
				      (GDestroyNotify)json_node_unref);
		break;
	case OUTCOME_STDIOLINK_ERROR:
		g_task_return_new_error(run->task, STDIOLINK_ERROR, STDIOLINK_ERROR_SCAN_TIMEOUT,
					"export timed out");
		break;
	case OUTCOME_OTHER_ERROR:
		g_task_return_new_error(run->task, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
					"no access");
		break;
	case OUTCOME_CANCELLED:
	default:
		g_task_return_new_error(run->task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "stopped");
		break;
	}
}

static gboolean
run_step_cb(gpointer user_data)
{
	Run *run = user_data;
	Script *script = run->script;
	GCancellable *cancellable = g_task_get_cancellable(run->task);

	if (!script->ignore_cancel && g_cancellable_is_cancelled(cancellable)) {
		script->saw_cancel = TRUE;
		if (script->cancel_other_error)
			g_task_return_new_error(run->task, G_IO_ERROR, G_IO_ERROR_FAILED,
						"gave up");
		else
			g_task_return_error_if_cancelled(run->task);
		return G_SOURCE_REMOVE;
	}

	/* the second, unchanged report must not make an event */
	if (run->step < script->steps) {
		run->step++;
		stdiolink_job_set_progress(run->job, run->step, script->steps);
		stdiolink_job_set_progress(run->job, run->step, script->steps);
		return G_SOURCE_CONTINUE;
	}
	if (script->hold && !script->release)
		return G_SOURCE_CONTINUE;

	run_return_outcome(run);
	return G_SOURCE_REMOVE;
}

static void
script_run(StdiolinkJob *job, GTask *task, gpointer run_data)
{
	Script *script = run_data;
	Run *run = g_new0(Run, 1);

	script->calls++;
	script->status_in_run = stdiolink_job_get_status(job);
	run->script = script;
	run->task = g_object_ref(task);
	run->job = g_object_ref(job);
	g_timeout_add_full(G_PRIORITY_DEFAULT, 1, run_step_cb, run, run_free);
}

/* ---- helpers --------------------------------------------------------------------------- */

static JsonObject *
params_new(gboolean flag)
{
	JsonObject *params = json_object_new();

	json_object_set_boolean_member(params, "refreshMeta", flag);
	return params;
}

static StdiolinkJob *
submit(Fixture *f, const char *kind, gboolean flag, Script *script)
{
	g_autoptr(JsonObject) params = params_new(flag);
	g_autoptr(GError) error = NULL;
	StdiolinkJob *conflicting = NULL;
	gboolean existing = TRUE;
	StdiolinkJob *job;

	job = stdiolink_job_manager_submit(f->jobs, kind, params, script_run, script,
					   script_free, &existing, &conflicting, &error);
	g_assert_no_error(error);
	g_assert_nonnull(job);
	g_assert_false(existing);
	g_assert_null(conflicting);
	return job;
}

static void
spin_until_status(StdiolinkJob *job, StdiolinkJobStatus status)
{
	while (stdiolink_job_get_status(job) != status)
		g_main_context_iteration(NULL, TRUE);
}

static void
spin_until_finished(StdiolinkJob *job)
{
	while (stdiolink_job_get_status(job) < STDIOLINK_JOB_SUCCEEDED)
		g_main_context_iteration(NULL, TRUE);
}

static gboolean
set_true_cb(gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
	return G_SOURCE_REMOVE;
}

/* lets every idle callback of higher priority (the job starts among them) run */
static void
spin_idles(void)
{
	gboolean done = FALSE;

	g_idle_add_full(G_PRIORITY_LOW, set_true_cb, &done, NULL);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
}

static char *
member_string(JsonObject *obj, const char *member)
{
	return stdiolink_json_to_string(json_object_get_member(obj, member),
					STDIOLINK_JSON_COMPACT);
}

/* "type" or "type:done/total" per event of @job, in publish order */
static char *
events_of(Fixture *f, StdiolinkJob *job)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < f->events->len; i++) {
		Event *ev = g_ptr_array_index(f->events, i);

		if (g_strcmp0(stdiolink_json_object_get_string(ev->data, "jobId"),
			      stdiolink_job_get_id(job)) != 0)
			continue;
		g_assert_cmpstr(stdiolink_json_object_get_string(ev->data, "kind"), ==,
				stdiolink_job_get_kind(job));
		if (out->len > 0)
			g_string_append_c(out, ' ');
		g_string_append(out, ev->type);
		if (g_str_equal(ev->type, "job.progress"))
			g_string_append_printf(
				out, ":%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
				json_object_get_int_member(ev->data, "done"),
				json_object_get_int_member(ev->data, "total"));
	}
	return g_string_free(out, FALSE);
}

static Event *
last_event(Fixture *f)
{
	g_assert_cmpuint(f->events->len, >, 0);
	return g_ptr_array_index(f->events, f->events->len - 1);
}

static gboolean
is_iso_millis(const char *s)
{
	const char *pattern = "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$";

	return s != NULL && g_regex_match_simple(pattern, s, 0, 0);
}

static StdiolinkJob *
run_to_end(Fixture *f, const char *kind, Script *script)
{
	StdiolinkJob *job = submit(f, kind, TRUE, script);

	spin_until_finished(job);
	return job;
}

/* ---- tests ----------------------------------------------------------------------------- */

static void
test_queued_then_running(Fixture *f, gconstpointer data)
{
	Script script = {.steps = 1, .hold = TRUE};
	g_autoptr(StdiolinkJob) job = submit(f, "drivers.scan", TRUE, &script);
	g_autoptr(JsonNode) node = stdiolink_job_to_json(job);
	JsonObject *obj = json_node_get_object(node);
	JsonObject *progress = json_object_get_object_member(obj, "progress");
	g_autofree char *params = member_string(obj, "params");
	g_autoptr(JsonNode) running = NULL;

	/* until the idle callback, the job is queued and its run not called */
	g_assert_cmpint(stdiolink_job_get_status(job), ==, STDIOLINK_JOB_QUEUED);
	g_assert_cmpuint(script.calls, ==, 0);
	g_assert_true(g_regex_match_simple("^[0-9a-f]{16}$", stdiolink_job_get_id(job), 0, 0));
	g_assert_cmpstr(json_object_get_string_member(obj, "id"), ==, stdiolink_job_get_id(job));
	g_assert_cmpstr(json_object_get_string_member(obj, "kind"), ==, "drivers.scan");
	g_assert_cmpstr(json_object_get_string_member(obj, "status"), ==, "queued");
	g_assert_true(is_iso_millis(json_object_get_string_member(obj, "createdAt")));
	g_assert_true(json_object_get_null_member(obj, "startedAt"));
	g_assert_true(json_object_get_null_member(obj, "finishedAt"));
	g_assert_cmpint(json_object_get_int_member(progress, "done"), ==, 0);
	g_assert_cmpint(json_object_get_int_member(progress, "total"), ==, 0);
	g_assert_cmpstr(params, ==, "{\"refreshMeta\":true}");
	g_assert_true(json_object_get_null_member(obj, "result"));
	g_assert_true(json_object_get_null_member(obj, "error"));
	g_assert_cmpuint(json_object_get_size(obj), ==, 10);
	g_assert_cmpuint(f->events->len, ==, 0);

	/* then it runs, once, seeing itself running */
	spin_until_status(job, STDIOLINK_JOB_RUNNING);
	g_assert_cmpuint(script.calls, ==, 1);
	g_assert_cmpint(script.status_in_run, ==, STDIOLINK_JOB_RUNNING);
	running = stdiolink_job_to_json(job);
	obj = json_node_get_object(running);
	g_assert_cmpstr(json_object_get_string_member(obj, "status"), ==, "running");
	g_assert_true(is_iso_millis(json_object_get_string_member(obj, "startedAt")));
	g_assert_true(json_object_get_null_member(obj, "finishedAt"));

	script.release = TRUE;
	spin_until_finished(job);
	g_assert_cmpuint(script.calls, ==, 1);
	g_assert_cmpuint(script.freed, ==, 1);
}

static void
test_events(Fixture *f, gconstpointer data)
{
	Script script = {.steps = 3};
	g_autoptr(StdiolinkJob) job = submit(f, "drivers.scan", FALSE, &script);
	g_autofree char *seen = NULL;
	g_autofree char *logged = NULL;
	g_autofree char *text = NULL;
	g_autofree char *params = NULL;
	g_autofree char *result = NULL;
	g_autofree char *progress = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_auto(GStrv) lines = NULL;
	GString *types = g_string_new(NULL);
	Event *started;

	spin_until_finished(job);
	g_assert_cmpint(stdiolink_job_get_status(job), ==, STDIOLINK_JOB_SUCCEEDED);

	/* started, progress only when it changed, then one terminal event, last */
	seen = events_of(f, job);
	g_assert_cmpstr(seen, ==,
			"job.started job.progress:1/3 job.progress:2/3 job.progress:3/3 "
			"job.finished");
	started = g_ptr_array_index(f->events, 0);
	params = member_string(started->data, "params");
	g_assert_cmpstr(params, ==, "{\"refreshMeta\":false}");
	g_assert_cmpuint(json_object_get_size(started->data), ==, 3);
	result = member_string(last_event(f)->data, "result");
	g_assert_cmpstr(result, ==, "{\"scanned\":3}");
	g_assert_cmpuint(json_object_get_size(last_event(f)->data), ==, 3);

	/* progress after the end changes nothing and publishes nothing */
	stdiolink_job_set_progress(job, 9, 9);
	g_assert_cmpuint(f->events->len, ==, 5);
	node = stdiolink_job_to_json(job);
	progress = member_string(json_node_get_object(node), "progress");
	g_assert_cmpstr(progress, ==, "{\"done\":3,\"total\":3}");

	/* the same sequence reached the event log */
	sl_test_flush_bus(f->bus);
	text = sl_test_read_file(f->events_path);
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL && *lines[i] != '\0'; i++) {
		g_autoptr(JsonNode) line = stdiolink_json_parse(lines[i], -1, NULL);
		JsonObject *rec = json_node_get_object(line);

		g_string_append_printf(types, "%s%s", i > 0 ? " " : "",
				       json_object_get_string_member(rec, "type"));
	}
	logged = g_string_free(types, FALSE);
	g_assert_cmpstr(logged, ==,
			"job.started job.progress job.progress job.progress job.finished");
}

static void
test_succeeded(Fixture *f, gconstpointer data)
{
	Script script = {.steps = 2};
	g_autoptr(StdiolinkJob) job = submit(f, "drivers.scan", TRUE, &script);
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *result = NULL;
	g_autofree char *progress = NULL;
	JsonObject *obj;

	spin_until_finished(job);
	g_assert_cmpint(stdiolink_job_get_status(job), ==, STDIOLINK_JOB_SUCCEEDED);
	g_assert_nonnull(stdiolink_job_get_result(job));
	g_assert_null(stdiolink_job_get_error(job));
	g_assert_cmpuint(script.freed, ==, 1);

	node = stdiolink_job_to_json(job);
	obj = json_node_get_object(node);
	result = member_string(obj, "result");
	progress = member_string(obj, "progress");
	g_assert_cmpstr(json_object_get_string_member(obj, "status"), ==, "succeeded");
	g_assert_cmpstr(result, ==, "{\"scanned\":2}");
	g_assert_cmpstr(progress, ==, "{\"done\":2,\"total\":2}");
	g_assert_true(json_object_get_null_member(obj, "error"));
	g_assert_true(is_iso_millis(json_object_get_string_member(obj, "startedAt")));
	g_assert_true(is_iso_millis(json_object_get_string_member(obj, "finishedAt")));
}

static void
test_failed(Fixture *f, gconstpointer data)
{
	const struct {
		Outcome outcome;
		const char *status;
		const char *error;
		const char *event;
	} cases[] = {
		{OUTCOME_STDIOLINK_ERROR, "failed",
		 "{\"code\":\"scan_timeout\",\"message\":\"export timed out\"}", "job.failed"},
		{OUTCOME_OTHER_ERROR, "failed", "{\"code\":\"internal\",\"message\":\"no access\"}",
		 "job.failed"},
		{OUTCOME_CANCELLED, "canceled", "null", "job.canceled"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		Script script = {.steps = 1, .outcome = cases[i].outcome};
		g_autoptr(StdiolinkJob) job = submit(f, "services.scan", TRUE, &script);
		g_autoptr(JsonNode) node = NULL;
		g_autofree char *error = NULL;
		g_autofree char *seen = NULL;
		g_autofree char *expected = NULL;
		JsonObject *obj;

		g_test_message("case %s", cases[i].error);
		spin_until_finished(job);
		node = stdiolink_job_to_json(job);
		obj = json_node_get_object(node);
		error = member_string(obj, "error");
		g_assert_cmpstr(json_object_get_string_member(obj, "status"), ==,
				cases[i].status);
		g_assert_cmpstr(error, ==, cases[i].error);
		g_assert_true(json_object_get_null_member(obj, "result"));
		g_assert_null(stdiolink_job_get_result(job));

		/* the event carries the same error object */
		seen = events_of(f, job);
		expected = g_strconcat("job.started job.progress:1/1 ", cases[i].event, NULL);
		g_assert_cmpstr(seen, ==, expected);
		if (g_str_equal(cases[i].event, "job.failed")) {
			g_autofree char *ev_error = member_string(last_event(f)->data, "error");

			g_assert_cmpstr(ev_error, ==, cases[i].error);
		} else {
			g_assert_null(stdiolink_job_get_error(job));
			g_assert_cmpuint(json_object_get_size(last_event(f)->data), ==, 2);
		}
	}
}

static void
test_cancel_running(Fixture *f, gconstpointer data)
{
	const struct {
		gboolean other_error;
		gboolean ignore_cancel;
		StdiolinkJobStatus status;
	} cases[] = {
		{FALSE, FALSE, STDIOLINK_JOB_CANCELED},
		/* any error of a cancelled run counts as the cancellation */
		{TRUE, FALSE, STDIOLINK_JOB_CANCELED},
		/* a run that did its work in spite of the cancel succeeded */
		{FALSE, TRUE, STDIOLINK_JOB_SUCCEEDED},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		Script script = {.steps = 1,
				 .hold = TRUE,
				 .cancel_other_error = cases[i].other_error,
				 .ignore_cancel = cases[i].ignore_cancel};
		g_autoptr(StdiolinkJob) job = submit(f, "drivers.scan", TRUE, &script);
		g_autoptr(GError) error = NULL;
		g_autofree char *seen = NULL;
		const char *terminal;

		g_test_message("case %u", i);
		spin_until_status(job, STDIOLINK_JOB_RUNNING);
		g_assert_true(stdiolink_job_manager_cancel(f->jobs, stdiolink_job_get_id(job),
							   &error));
		g_assert_no_error(error);

		/* it is still running until the run returns */
		g_assert_cmpint(stdiolink_job_get_status(job), ==, STDIOLINK_JOB_RUNNING);
		if (cases[i].ignore_cancel)
			script.release = TRUE;
		spin_until_finished(job);
		g_assert_cmpint(stdiolink_job_get_status(job), ==, cases[i].status);
		g_assert_cmpint(script.saw_cancel, ==, !cases[i].ignore_cancel);
		g_assert_null(stdiolink_job_get_error(job));

		terminal = cases[i].status == STDIOLINK_JOB_CANCELED ? "job.canceled"
								    : "job.finished";
		seen = events_of(f, job);
		g_assert_true(g_str_has_prefix(seen, "job.started "));
		g_assert_true(g_str_has_suffix(seen, terminal));
		g_assert_null(strstr(seen, "job.failed"));
	}
}

static void
test_cancel_queued(Fixture *f, gconstpointer data)
{
	Script script = {.steps = 1};
	g_autoptr(StdiolinkJob) job = submit(f, "drivers.scan", TRUE, &script);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *seen = NULL;
	JsonObject *obj;

	/* canceled at once, and it never runs */
	g_assert_true(stdiolink_job_manager_cancel(f->jobs, stdiolink_job_get_id(job), &error));
	g_assert_no_error(error);
	g_assert_cmpint(stdiolink_job_get_status(job), ==, STDIOLINK_JOB_CANCELED);
	g_assert_cmpuint(script.freed, ==, 1);
	spin_idles();
	g_assert_cmpuint(script.calls, ==, 0);
	g_assert_cmpint(stdiolink_job_get_status(job), ==, STDIOLINK_JOB_CANCELED);

	seen = events_of(f, job);
	g_assert_cmpstr(seen, ==, "job.canceled");
	node = stdiolink_job_to_json(job);
	obj = json_node_get_object(node);
	g_assert_true(json_object_get_null_member(obj, "startedAt"));
	g_assert_true(is_iso_millis(json_object_get_string_member(obj, "finishedAt")));
	g_assert_true(json_object_get_null_member(obj, "error"));
}

static void
test_cancel_errors(Fixture *f, gconstpointer data)
{
	Script script = {.steps = 0};
	g_autoptr(StdiolinkJob) job = submit(f, "drivers.scan", TRUE, &script);
	g_autoptr(GError) error = NULL;

	g_assert_false(stdiolink_job_manager_cancel(f->jobs, "0123456789abcdef", &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "job not found");
	g_clear_error(&error);

	spin_until_finished(job);
	g_assert_false(stdiolink_job_manager_cancel(f->jobs, stdiolink_job_get_id(job), &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT);
	g_assert_cmpstr(error->message, ==, "job has already finished");
	g_assert_cmpint(stdiolink_job_get_status(job), ==, STDIOLINK_JOB_SUCCEEDED);
}

static StdiolinkJob *
submit_again(Fixture *f,
	     const char *kind,
	     gboolean flag,
	     Script *script,
	     gboolean *existing,
	     StdiolinkJob **conflicting,
	     GError **error)
{
	g_autoptr(JsonObject) params = params_new(flag);

	return stdiolink_job_manager_submit(f->jobs, kind, params, script_run, script,
					    script_free, existing, conflicting, error);
}

static void
test_dedupe(Fixture *f, gconstpointer data)
{
	Script first = {.steps = 1, .hold = TRUE};
	Script second = {.steps = 1};
	Script third = {.steps = 1};
	g_autoptr(StdiolinkJob) job = submit(f, "drivers.scan", TRUE, &first);
	g_autoptr(StdiolinkJob) queued_dup = NULL;
	g_autoptr(StdiolinkJob) running_dup = NULL;
	g_autoptr(GError) error = NULL;
	StdiolinkJob *conflicting = NULL;
	gboolean existing = FALSE;

	/* equal params while queued: the same job, the new run data freed at once */
	queued_dup = submit_again(f, "drivers.scan", TRUE, &second, &existing, &conflicting,
				  &error);
	g_assert_no_error(error);
	g_assert_true(queued_dup == job);
	g_assert_true(existing);
	g_assert_null(conflicting);
	g_assert_cmpuint(second.freed, ==, 1);

	/* and while running */
	spin_until_status(job, STDIOLINK_JOB_RUNNING);
	existing = FALSE;
	running_dup = submit_again(f, "drivers.scan", TRUE, &third, &existing, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(stdiolink_job_get_id(running_dup), ==, stdiolink_job_get_id(job));
	g_assert_true(existing);
	g_assert_cmpuint(third.freed, ==, 1);

	first.release = TRUE;
	spin_until_finished(job);
	g_assert_cmpuint(first.calls, ==, 1);
	g_assert_cmpuint(second.calls + third.calls, ==, 0);
	g_assert_cmpuint(first.freed, ==, 1);
}

static void
test_conflict(Fixture *f, gconstpointer data)
{
	Script first = {.steps = 1, .hold = TRUE};
	Script other = {.steps = 1};
	Script later = {.steps = 1};
	g_autoptr(StdiolinkJob) job = submit(f, "drivers.scan", TRUE, &first);
	g_autoptr(StdiolinkJob) refused = NULL;
	g_autoptr(StdiolinkJob) conflicting = NULL;
	g_autoptr(StdiolinkJob) next = NULL;
	g_autoptr(GError) error = NULL;
	gboolean existing = TRUE;

	spin_until_status(job, STDIOLINK_JOB_RUNNING);
	refused = submit_again(f, "drivers.scan", FALSE, &other, &existing, &conflicting, &error);
	g_assert_null(refused);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_JOB_CONFLICT);
	g_assert_cmpstr(error->message, ==, "a drivers.scan job with other parameters is running");
	g_assert_true(conflicting == job);
	g_assert_false(existing);
	g_assert_cmpuint(other.freed, ==, 1);

	/* once it has finished, other params start a new job */
	first.release = TRUE;
	spin_until_finished(job);
	next = submit(f, "drivers.scan", FALSE, &later);
	g_assert_cmpstr(stdiolink_job_get_id(next), !=, stdiolink_job_get_id(job));
	spin_until_finished(next);
	g_assert_cmpuint(other.calls, ==, 0);
	g_assert_cmpuint(later.calls, ==, 1);
}

static void
test_kinds_concurrent(Fixture *f, gconstpointer data)
{
	Script drivers = {.steps = 1, .hold = TRUE};
	Script services = {.steps = 1, .hold = TRUE};
	g_autoptr(StdiolinkJob) a = submit(f, "drivers.scan", TRUE, &drivers);
	g_autoptr(StdiolinkJob) b = submit(f, "services.scan", FALSE, &services);

	spin_until_status(a, STDIOLINK_JOB_RUNNING);
	spin_until_status(b, STDIOLINK_JOB_RUNNING);
	g_assert_cmpint(stdiolink_job_get_status(a), ==, STDIOLINK_JOB_RUNNING);

	drivers.release = TRUE;
	services.release = TRUE;
	spin_until_finished(a);
	spin_until_finished(b);
	g_assert_cmpint(stdiolink_job_get_status(a), ==, STDIOLINK_JOB_SUCCEEDED);
	g_assert_cmpint(stdiolink_job_get_status(b), ==, STDIOLINK_JOB_SUCCEEDED);
}

/* the ids of a list, space-separated */
static char *
list_ids(Fixture *f, const char *kind, const char *status)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = stdiolink_job_manager_list(f->jobs, kind, status, &error);
	JsonArray *jobs;
	GString *out = g_string_new(NULL);

	g_assert_no_error(error);
	g_assert_cmpuint(json_object_get_size(json_node_get_object(node)), ==, 1);
	jobs = json_object_get_array_member(json_node_get_object(node), "jobs");
	for (guint i = 0; i < json_array_get_length(jobs); i++) {
		JsonObject *job = json_array_get_object_element(jobs, i);

		g_string_append_printf(out, "%s%s", i > 0 ? " " : "",
				       json_object_get_string_member(job, "id"));
	}
	return g_string_free(out, FALSE);
}

static void
assert_list(Fixture *f, const char *kind, const char *status, const char *expected)
{
	g_autofree char *got = list_ids(f, kind, status);

	g_test_message("list kind=%s status=%s", kind, status);
	g_assert_cmpstr(got, ==, expected);
}

static void
test_list(Fixture *f, gconstpointer data)
{
	Script s1 = {.steps = 0};
	Script s2 = {.steps = 0, .outcome = OUTCOME_STDIOLINK_ERROR};
	Script s3 = {.steps = 0, .hold = TRUE};
	g_autoptr(StdiolinkJob) j1 = run_to_end(f, "drivers.scan", &s1);
	g_autoptr(StdiolinkJob) j2 = run_to_end(f, "services.scan", &s2);
	g_autoptr(StdiolinkJob) j3 = submit(f, "drivers.scan", FALSE, &s3);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) bad = NULL;
	const char *id1 = stdiolink_job_get_id(j1);
	const char *id2 = stdiolink_job_get_id(j2);
	const char *id3 = stdiolink_job_get_id(j3);
	g_autofree char *all = g_strjoin(" ", id1, id2, id3, NULL);
	g_autofree char *drivers = g_strjoin(" ", id1, id3, NULL);

	/* oldest first; filters by kind, status, both; empty filters mean any */
	assert_list(f, NULL, NULL, all);
	assert_list(f, "", "", all);
	assert_list(f, NULL, "queued", id3);
	spin_until_status(j3, STDIOLINK_JOB_RUNNING);
	assert_list(f, "drivers.scan", NULL, drivers);
	assert_list(f, NULL, "running", id3);
	assert_list(f, "services.scan", "failed", id2);
	assert_list(f, "drivers.scan", "failed", "");
	assert_list(f, "other", NULL, "");

	/* an unknown status is the caller's mistake */
	bad = stdiolink_job_manager_list(f->jobs, NULL, "done", &error);
	g_assert_null(bad);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
	g_assert_cmpstr(error->message, ==, "unknown job status: done");

	s3.release = TRUE;
	spin_until_finished(j3);
	assert_list(f, NULL, "succeeded", drivers);
}

static void
test_retention_count(Fixture *f, gconstpointer data)
{
	Script held = {.steps = 0, .hold = TRUE};
	Script s[3] = {{.steps = 0}, {.steps = 0}, {.steps = 0}};
	g_autoptr(StdiolinkJob) running = submit(f, "services.scan", TRUE, &held);
	g_autoptr(StdiolinkJob) j0 = NULL;
	g_autoptr(StdiolinkJob) j1 = NULL;
	g_autoptr(StdiolinkJob) j2 = NULL;
	g_autofree char *kept = NULL;
	g_autofree char *only_running = NULL;
	g_autofree char *expected = NULL;

	stdiolink_job_manager_set_retention(f->jobs, 2, G_TIME_SPAN_HOUR);
	spin_until_status(running, STDIOLINK_JOB_RUNNING);
	j0 = run_to_end(f, "drivers.scan", &s[0]);
	j1 = run_to_end(f, "drivers.scan", &s[1]);
	j2 = run_to_end(f, "drivers.scan", &s[2]);

	/* the job that finished first is forgotten; the running one stays */
	g_assert_null(stdiolink_job_manager_lookup(f->jobs, stdiolink_job_get_id(j0)));
	g_assert_true(stdiolink_job_manager_lookup(f->jobs, stdiolink_job_get_id(j1)) == j1);
	g_assert_true(stdiolink_job_manager_lookup(f->jobs, stdiolink_job_get_id(j2)) == j2);
	kept = list_ids(f, NULL, NULL);
	expected = g_strjoin(" ", stdiolink_job_get_id(running), stdiolink_job_get_id(j1),
			     stdiolink_job_get_id(j2), NULL);
	g_assert_cmpstr(kept, ==, expected);

	/* no finished job at all: jobs still running are never pruned */
	stdiolink_job_manager_set_retention(f->jobs, 0, G_TIME_SPAN_HOUR);
	only_running = list_ids(f, NULL, NULL);
	g_assert_cmpstr(only_running, ==, stdiolink_job_get_id(running));

	held.release = TRUE;
	spin_until_finished(running);
	g_assert_null(stdiolink_job_manager_lookup(f->jobs, stdiolink_job_get_id(running)));
}

static void
test_retention_age(Fixture *f, gconstpointer data)
{
	Script sa = {.steps = 0};
	Script sb = {.steps = 0};
	Script held = {.steps = 0, .hold = TRUE};
	g_autoptr(StdiolinkJob) a = run_to_end(f, "drivers.scan", &sa);
	gint64 after_a = g_get_monotonic_time();
	gboolean waited = FALSE;
	g_autoptr(StdiolinkJob) b = NULL;
	g_autoptr(StdiolinkJob) running = NULL;

	/* b finishes at least 100 ms after a */
	g_timeout_add(100, set_true_cb, &waited);
	while (!waited)
		g_main_context_iteration(NULL, TRUE);
	b = run_to_end(f, "drivers.scan", &sb);
	running = submit(f, "services.scan", TRUE, &held);
	spin_until_status(running, STDIOLINK_JOB_RUNNING);

	/* a limit between their ages: a is older than it, b younger by about 100 ms */
	stdiolink_job_manager_set_retention(f->jobs, 100, g_get_monotonic_time() - after_a);
	g_assert_null(stdiolink_job_manager_lookup(f->jobs, stdiolink_job_get_id(a)));
	g_assert_true(stdiolink_job_manager_lookup(f->jobs, stdiolink_job_get_id(b)) == b);

	/* no age at all: every finished job goes, the running one stays */
	stdiolink_job_manager_set_retention(f->jobs, 100, 0);
	g_assert_null(stdiolink_job_manager_lookup(f->jobs, stdiolink_job_get_id(b)));
	g_assert_true(stdiolink_job_manager_lookup(f->jobs, stdiolink_job_get_id(running)) ==
		      running);

	held.release = TRUE;
	spin_until_finished(running);
}

static void
test_count_by_status(Fixture *f, gconstpointer data)
{
	Script ok = {.steps = 0};
	Script bad = {.steps = 0, .outcome = OUTCOME_OTHER_ERROR};
	Script stopped = {.steps = 0};
	Script held = {.steps = 0, .hold = TRUE};
	Script waiting = {.steps = 0};
	g_autoptr(StdiolinkJob) j_ok = run_to_end(f, "a", &ok);
	g_autoptr(StdiolinkJob) j_bad = run_to_end(f, "b", &bad);
	g_autoptr(StdiolinkJob) j_stopped = submit(f, "c", TRUE, &stopped);
	g_autoptr(StdiolinkJob) j_held = submit(f, "d", TRUE, &held);
	g_autoptr(StdiolinkJob) j_waiting = NULL;
	guint counts[STDIOLINK_JOB_N_STATUS];

	g_assert_true(stdiolink_job_manager_cancel(f->jobs, stdiolink_job_get_id(j_stopped),
						   NULL));
	spin_until_status(j_held, STDIOLINK_JOB_RUNNING);
	j_waiting = submit(f, "e", TRUE, &waiting);

	stdiolink_job_manager_count_by_status(f->jobs, counts);
	g_assert_cmpuint(counts[STDIOLINK_JOB_QUEUED], ==, 1);
	g_assert_cmpuint(counts[STDIOLINK_JOB_RUNNING], ==, 1);
	g_assert_cmpuint(counts[STDIOLINK_JOB_SUCCEEDED], ==, 1);
	g_assert_cmpuint(counts[STDIOLINK_JOB_FAILED], ==, 1);
	g_assert_cmpuint(counts[STDIOLINK_JOB_CANCELED], ==, 1);
	for (guint i = 0; i < STDIOLINK_JOB_N_STATUS; i++)
		g_assert_nonnull(stdiolink_job_status_to_string(i));
	g_assert_cmpstr(stdiolink_job_status_to_string(STDIOLINK_JOB_CANCELED), ==, "canceled");

	held.release = TRUE;
	spin_until_finished(j_held);
	spin_until_finished(j_waiting);
	stdiolink_job_manager_count_by_status(f->jobs, counts);
	g_assert_cmpuint(counts[STDIOLINK_JOB_QUEUED] + counts[STDIOLINK_JOB_RUNNING], ==, 0);
	g_assert_cmpuint(counts[STDIOLINK_JOB_SUCCEEDED], ==, 3);
}

typedef struct {
	Fixture *f;
	StdiolinkJob *job;  /* what the wait returned */
	GError *error;
	gboolean done;
	guint events_seen; /* job events published when the callback ran */
	StdiolinkJobStatus status;
} Waited;

static void
waited_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Waited *w = user_data;

	w->job = stdiolink_job_manager_wait_finish(STDIOLINK_JOB_MANAGER(source), res, &w->error);
	w->events_seen = w->f->events->len;
	if (w->job != NULL)
		w->status = stdiolink_job_get_status(w->job);
	w->done = TRUE;
}

static void
test_wait(Fixture *f, gconstpointer data)
{
	Script script = {.steps = 1, .hold = TRUE};
	g_autoptr(StdiolinkJob) job = submit(f, "drivers.scan", TRUE, &script);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	Waited running = {.f = f};
	Waited finished = {.f = f};
	Waited stopped = {.f = f};

	/* on a running job: answered once it has finished, after its terminal event */
	spin_until_status(job, STDIOLINK_JOB_RUNNING);
	stdiolink_job_manager_wait_async(f->jobs, job, NULL, waited_cb, &running);
	stdiolink_job_manager_wait_async(f->jobs, job, cancellable, waited_cb, &stopped);
	spin_idles();
	g_assert_false(running.done);

	/* a cancelled wait ends alone; the job runs on */
	g_cancellable_cancel(cancellable);
	while (!stopped.done)
		g_main_context_iteration(NULL, TRUE);
	g_assert_error(stopped.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_null(stopped.job);
	g_assert_false(running.done);
	g_assert_cmpint(stdiolink_job_get_status(job), ==, STDIOLINK_JOB_RUNNING);

	script.release = TRUE;
	while (!running.done)
		g_main_context_iteration(NULL, TRUE);
	g_assert_no_error(running.error);
	g_assert_true(running.job == job);
	g_assert_cmpint(running.status, ==, STDIOLINK_JOB_SUCCEEDED);
	g_assert_cmpuint(running.events_seen, ==, f->events->len);
	g_assert_cmpstr(last_event(f)->type, ==, "job.finished");

	/* on a finished job: answered from the main loop */
	stdiolink_job_manager_wait_async(f->jobs, job, NULL, waited_cb, &finished);
	g_assert_false(finished.done);
	while (!finished.done)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(finished.job == job);
	g_assert_cmpint(finished.status, ==, STDIOLINK_JOB_SUCCEEDED);

	g_object_unref(running.job);
	g_object_unref(finished.job);
	g_error_free(stopped.error);
}

static void
shutdown_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Waited *w = user_data;

	g_assert_true(stdiolink_job_manager_shutdown_finish(STDIOLINK_JOB_MANAGER(source), res,
							    &w->error));
	w->done = TRUE;
}

static void
test_shutdown(Fixture *f, gconstpointer data)
{
	Script done = {.steps = 0};
	Script held = {.steps = 1, .hold = TRUE};
	Script queued = {.steps = 0};
	g_autoptr(StdiolinkJob) j_done = run_to_end(f, "a", &done);
	g_autoptr(StdiolinkJob) j_held = submit(f, "b", TRUE, &held);
	g_autoptr(StdiolinkJob) j_queued = NULL;
	Waited first = {.f = f};
	Waited again = {.f = f};

	spin_until_status(j_held, STDIOLINK_JOB_RUNNING);
	j_queued = submit(f, "c", TRUE, &queued);

	/* the queued job ends at once, the running one when its run has stopped */
	stdiolink_job_manager_shutdown_async(f->jobs, NULL, shutdown_cb, &first);
	g_assert_cmpint(stdiolink_job_get_status(j_queued), ==, STDIOLINK_JOB_CANCELED);
	g_assert_cmpint(stdiolink_job_get_status(j_held), ==, STDIOLINK_JOB_RUNNING);
	g_assert_false(first.done);
	while (!first.done)
		g_main_context_iteration(NULL, TRUE);
	g_assert_no_error(first.error);
	g_assert_cmpint(stdiolink_job_get_status(j_held), ==, STDIOLINK_JOB_CANCELED);
	g_assert_true(held.saw_cancel);
	g_assert_cmpuint(queued.calls, ==, 0);
	g_assert_cmpint(stdiolink_job_get_status(j_done), ==, STDIOLINK_JOB_SUCCEEDED);

	/* with nothing running it completes straight away */
	stdiolink_job_manager_shutdown_async(f->jobs, NULL, shutdown_cb, &again);
	while (!again.done)
		g_main_context_iteration(NULL, TRUE);
	g_assert_no_error(again.error);
}

/* an uncancelable job refuses a cancel request, but not a shutdown */
static void
test_uncancelable(Fixture *f, gconstpointer data)
{
	Script held = {.steps = 1, .hold = TRUE};
	g_autoptr(StdiolinkJob) job = submit(f, "services.scan", TRUE, &held);
	g_autoptr(GError) error = NULL;
	Waited stopped = {.f = f};

	stdiolink_job_set_cancelable(job, FALSE);
	spin_until_status(job, STDIOLINK_JOB_RUNNING);
	g_assert_false(stdiolink_job_manager_cancel(f->jobs, stdiolink_job_get_id(job), &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT);
	g_assert_cmpstr(error->message, ==, "job cannot be canceled");
	spin_idles();
	g_assert_false(held.saw_cancel);
	g_assert_cmpint(stdiolink_job_get_status(job), ==, STDIOLINK_JOB_RUNNING);

	stdiolink_job_manager_shutdown_async(f->jobs, NULL, shutdown_cb, &stopped);
	while (!stopped.done)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(held.saw_cancel);
	g_assert_cmpint(stdiolink_job_get_status(job), ==, STDIOLINK_JOB_CANCELED);
}

static void
test_detail(Fixture *f, gconstpointer data)
{
	Script script = {.steps = 0};
	g_autoptr(StdiolinkJob) job = submit(f, "drivers.scan", TRUE, &script);
	g_autoptr(JsonNode) failures = stdiolink_json_parse("[{\"dir\":\"x\"}]", -1, NULL);
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(JsonNode) after = NULL;
	g_autofree char *got = NULL;
	g_autofree char *id = NULL;
	JsonObject *obj;

	stdiolink_job_set_detail(job, "failures", json_node_copy(failures));
	stdiolink_job_set_detail(job, "note", json_node_init_string(json_node_alloc(), "a"));
	stdiolink_job_set_detail(job, "note", json_node_init_string(json_node_alloc(), "b"));

	/* the standard members cannot be replaced */
	g_test_expect_message("Stdiolink", G_LOG_LEVEL_CRITICAL, "*assertion*failed*");
	stdiolink_job_set_detail(job, "id", json_node_init_string(json_node_alloc(), "x"));
	g_test_assert_expected_messages();

	spin_until_finished(job);
	node = stdiolink_job_to_json(job);
	obj = json_node_get_object(node);
	got = member_string(obj, "failures");
	id = member_string(obj, "id");
	g_assert_cmpstr(got, ==, "[{\"dir\":\"x\"}]");
	g_assert_cmpstr(json_object_get_string_member(obj, "note"), ==, "b");
	g_assert_cmpstr(json_object_get_string_member(obj, "id"), ==, stdiolink_job_get_id(job));
	g_assert_cmpuint(json_object_get_size(obj), ==, 12);

	/* NULL removes a detail */
	stdiolink_job_set_detail(job, "note", NULL);
	after = stdiolink_job_to_json(job);
	g_assert_false(json_object_has_member(json_node_get_object(after), "note"));
}

static void
test_lifetime(Fixture *f, gconstpointer data)
{
	Script script = {.steps = 0, .hold = TRUE};
	g_autoptr(StdiolinkJob) job = submit(f, "drivers.scan", TRUE, &script);
	StdiolinkJobManager *manager = g_object_ref(f->jobs);

	/* a manager let go of while a job runs lives until the job has finished */
	g_object_add_weak_pointer(G_OBJECT(manager), (gpointer *)&manager);
	spin_until_status(job, STDIOLINK_JOB_RUNNING);
	g_object_unref(manager);
	g_object_unref(f->jobs);
	g_assert_nonnull(manager);
	f->jobs = NULL;

	script.release = TRUE;
	spin_until_finished(job);
	while (g_main_context_pending(NULL))
		g_main_context_iteration(NULL, FALSE);
	g_assert_null(manager);
	g_assert_cmpuint(script.freed, ==, 1);

	/* for the teardown */
	f->jobs = stdiolink_job_manager_new(NULL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/job-manager/queued-then-running", test_queued_then_running);
	ADD("/job-manager/events", test_events);
	ADD("/job-manager/succeeded", test_succeeded);
	ADD("/job-manager/failed", test_failed);
	ADD("/job-manager/cancel-running", test_cancel_running);
	ADD("/job-manager/cancel-queued", test_cancel_queued);
	ADD("/job-manager/cancel-errors", test_cancel_errors);
	ADD("/job-manager/dedupe", test_dedupe);
	ADD("/job-manager/conflict", test_conflict);
	ADD("/job-manager/kinds-concurrent", test_kinds_concurrent);
	ADD("/job-manager/list", test_list);
	ADD("/job-manager/retention-count", test_retention_count);
	ADD("/job-manager/retention-age", test_retention_age);
	ADD("/job-manager/count-by-status", test_count_by_status);
	ADD("/job-manager/wait", test_wait);
	ADD("/job-manager/shutdown", test_shutdown);
	ADD("/job-manager/uncancelable", test_uncancelable);
	ADD("/job-manager/detail", test_detail);
	ADD("/job-manager/lifetime", test_lifetime);
#undef ADD
	return g_test_run();
}
