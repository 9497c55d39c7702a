#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "slc-commands.h"
#include "slc-job-follow.h"

/*
 * `stdiolinkctl jobs ...` and the end of `drivers scan` / `services scan`: long work in
 * the daemon runs as a job (GET /api/jobs); these commands list, show, follow and cancel
 * them, and print a finished job's result.
 */

/* "3/50", or "-" for a job without progress */
static char *
format_progress(JsonNode *job)
{
	JsonNode *done = slc_json_lookup(job, "progress.done");
	JsonNode *total = slc_json_lookup(job, "progress.total");
	g_autofree char *done_text = NULL;
	g_autofree char *total_text = NULL;

	if (!stdiolink_json_node_is_number(done) || !stdiolink_json_node_is_number(total))
		return g_strdup("-");
	done_text = stdiolink_json_format_number(stdiolink_json_node_get_number(done));
	total_text = stdiolink_json_format_number(stdiolink_json_node_get_number(total));
	return g_strdup_printf("%s/%s", done_text, total_text);
}

static void
render_jobs_list(SlcContext *ctx, JsonNode *root)
{
	JsonArray *jobs = slc_json_get_array(root, "jobs");
	g_autoptr(SlcTable) table = slc_table_new(5);

	if (jobs == NULL || json_array_get_length(jobs) == 0) {
		printf("%s\n", _("No jobs."));
		return;
	}

	/* TRANSLATORS: table column headers of the job list */
	slc_table_add_header(table, _("ID"));
	slc_table_add_header(table, _("KIND"));
	slc_table_add_header(table, _("STATUS"));
	slc_table_add_header(table, _("PROGRESS"));
	slc_table_add_header(table, _("CREATED"));
	for (guint i = 0; i < json_array_get_length(jobs); i++) {
		JsonNode *job = json_array_get_element(jobs, i);
		g_autofree char *id = slc_json_display(job, "id");
		g_autofree char *kind = slc_json_display(job, "kind");
		g_autofree char *status = slc_json_display(job, "status");
		g_autofree char *progress = format_progress(job);
		g_autofree char *created = slc_json_display(job, "createdAt");

		slc_table_add_cell(table, id, SLC_STYLE_NONE);
		slc_table_add_cell(table, kind, SLC_STYLE_NONE);
		slc_table_add_cell(table, status, slc_status_style(status));
		slc_table_add_cell(table, progress, SLC_STYLE_NONE);
		slc_table_add_cell(table, created, SLC_STYLE_NONE);
	}
	slc_context_print_table(ctx, table);
}

static void
append_query(GString *path, const char *name, const char *value)
{
	g_autofree char *escaped = NULL;

	if (value == NULL)
		return;
	escaped = stdiolink_client_escape_segment(value);
	g_string_append_printf(path, "%c%s=%s", strchr(path->str, '?') ? '&' : '?', name,
			       escaped);
}

/**
 * slc_cmd_jobs_list:
 * @ctx: the context
 * @args: `--kind`, `--status`
 * @error: return location for a #GError
 *
 * `stdiolinkctl jobs list [--kind K] [--status S]`: GET /api/jobs?kind=K&status=S, the
 * jobs the daemon remembers, oldest first.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_jobs_list(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autoptr(GString) path = g_string_new("/api/jobs");

	append_query(path, "kind", args->kind);
	append_query(path, "status", args->status);
	return slc_context_show(ctx, path->str, render_jobs_list, error);
}

/* ---- one job's result -------------------------------------------------------------------- */

static void
render_drivers_scan(SlcTable *fields, JsonNode *result)
{
	slc_fields_add_json(fields, _("Folders scanned"), result, "scanned");
	slc_fields_add_json(fields, _("Drivers loaded"), result, "updated");
	slc_fields_add_json(fields, _("Newly failed"), result, "newlyFailed");
	slc_fields_add_json(fields, _("Skipped (.failed)"), result, "skippedFailed");
}

static void
render_services_scan(SlcTable *fields, JsonNode *result)
{
	g_autofree char *invalid = slc_json_display_strings(result, "invalidProjects");

	slc_fields_add_json(fields, _("Folders scanned"), result, "scannedDirs");
	slc_fields_add_json(fields, _("Services loaded"), result, "loadedServices");
	slc_fields_add_json(fields, _("Services failed"), result, "failedServices");
	slc_fields_add_json(fields, _("Added"), result, "added");
	slc_fields_add_json(fields, _("Removed"), result, "removed");
	slc_fields_add_json(fields, _("Updated"), result, "updated");
	slc_fields_add_json(fields, _("Unchanged"), result, "unchanged");
	slc_fields_add_json(fields, _("Projects revalidated"), result, "revalidatedProjects");
	slc_fields_add_json(fields, _("Became valid"), result, "becameValid");
	slc_fields_add_json(fields, _("Became invalid"), result, "becameInvalid");
	slc_fields_add_json(fields, _("Remained invalid"), result, "remainedInvalid");
	slc_fields_add_json(fields, _("Scheduling restarted"), result, "schedulingRestarted");
	slc_fields_add(fields, _("Invalid projects"), invalid, SLC_STYLE_NONE);
}

/* a kind this CLI does not know: its members as the API names them */
static void
render_other_result(SlcTable *fields, JsonNode *result)
{
	g_autoptr(GList) members = NULL;

	if (!JSON_NODE_HOLDS_OBJECT(result)) {
		g_autofree char *text = stdiolink_json_to_string(result, STDIOLINK_JSON_COMPACT);

		slc_fields_add(fields, _("Result"), text, SLC_STYLE_NONE);
		return;
	}
	members = stdiolink_json_object_get_ordered_members(json_node_get_object(result));
	for (GList *l = members; l != NULL; l = l->next)
		slc_fields_add_json(fields, l->data, result, l->data);
}

static void
render_result(SlcContext *ctx, JsonNode *job)
{
	g_autoptr(SlcTable) fields = slc_table_new(2);
	JsonNode *result = slc_json_lookup(job, "result");
	const char *kind = slc_json_get_string(job, "kind");

	if (result == NULL || JSON_NODE_HOLDS_NULL(result))
		return;
	if (g_strcmp0(kind, "drivers.scan") == 0)
		render_drivers_scan(fields, result);
	else if (g_strcmp0(kind, "services.scan") == 0)
		render_services_scan(fields, result);
	else
		render_other_result(fields, result);
	slc_context_print_table(ctx, fields);
}

/* the drivers a scan could not load, with the reason */
static void
render_failures(SlcContext *ctx, JsonNode *job)
{
	JsonArray *failures = slc_json_get_array(job, "failures");
	g_autoptr(SlcTable) table = slc_table_new(3);

	if (failures == NULL || json_array_get_length(failures) == 0)
		return;

	/* TRANSLATORS: table column headers of the folders a scan could not load */
	slc_table_add_header(table, _("FOLDER"));
	slc_table_add_header(table, _("CODE"));
	slc_table_add_header(table, _("MESSAGE"));
	for (guint i = 0; i < json_array_get_length(failures); i++) {
		JsonNode *failure = json_array_get_element(failures, i);
		g_autofree char *dir = slc_json_display(failure, "dir");
		g_autofree char *code = slc_json_display(failure, "code");
		g_autofree char *message = slc_json_display(failure, "message");

		slc_table_add_row(table, dir, code, message, NULL);
	}
	printf("\n%s\n", _("Failures:"));
	slc_context_print_table(ctx, table);
}

/* "refreshMeta=true": names and values as the API spells them, for the command line */
static char *
format_params(JsonNode *job)
{
	JsonNode *params = slc_json_lookup(job, "params");
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GList) members = NULL;

	if (params == NULL || !JSON_NODE_HOLDS_OBJECT(params))
		return g_strdup("-");
	members = stdiolink_json_object_get_ordered_members(json_node_get_object(params));
	for (GList *l = members; l != NULL; l = l->next) {
		JsonNode *member = json_object_get_member(json_node_get_object(params), l->data);
		g_autofree char *value = stdiolink_json_to_string(member, STDIOLINK_JSON_COMPACT);

		if (out->len > 0)
			g_string_append_c(out, ' ');
		g_string_append_printf(out, "%s=%s", (const char *)l->data, value);
	}
	return g_strdup(out->len > 0 ? out->str : "-");
}

static void
render_job(SlcContext *ctx, JsonNode *job)
{
	g_autoptr(SlcTable) fields = slc_table_new(2);
	g_autofree char *progress = format_progress(job);
	g_autofree char *params = format_params(job);
	const char *error_code = slc_json_get_string(job, "error.code");
	const char *error_message = slc_json_get_string(job, "error.message");
	JsonNode *result = slc_json_lookup(job, "result");

	slc_fields_add_json(fields, _("ID"), job, "id");
	slc_fields_add_json(fields, _("Kind"), job, "kind");
	slc_fields_add_status(fields, _("Status"), job, "status");
	slc_fields_add_json(fields, _("Created at"), job, "createdAt");
	slc_fields_add_json(fields, _("Started at"), job, "startedAt");
	slc_fields_add_json(fields, _("Finished at"), job, "finishedAt");
	slc_fields_add(fields, _("Progress"), progress, SLC_STYLE_NONE);
	slc_fields_add(fields, _("Parameters"), params, SLC_STYLE_NONE);
	if (error_message != NULL) {
		g_autofree char *text = g_strdup_printf("%s (%s)", error_message,
							error_code != NULL ? error_code : "-");

		slc_fields_add(fields, _("Error"), text, SLC_STYLE_BAD);
	}
	slc_context_print_table(ctx, fields);

	if (result != NULL && !JSON_NODE_HOLDS_NULL(result)) {
		printf("\n%s\n", _("Result:"));
		render_result(ctx, job);
	}
	render_failures(ctx, job);
}

/**
 * slc_cmd_jobs_show:
 * @ctx: the context
 * @args: the job id
 * @error: return location for a #GError
 *
 * `stdiolinkctl jobs show ID`: GET /api/jobs/ID.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_jobs_show(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *path = slc_job_path(args->positional[0], NULL);

	return slc_context_show(ctx, path, render_job, error);
}

/**
 * slc_cmd_jobs_wait:
 * @ctx: the context
 * @args: the job id
 * @error: return location for a #GError
 *
 * `stdiolinkctl jobs wait ID`: follows the job (see slc_job_follow()) and shows it once it
 * has ended; with `--json` the job object as received.
 *
 * Returns: %TRUE if the job succeeded; %FALSE with %SLC_ERROR_JOB_FAILED if it failed or
 * was canceled
 */
gboolean
slc_cmd_jobs_wait(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autoptr(GBytes) raw = NULL;
	g_autoptr(JsonNode) job = slc_job_follow(ctx, args->positional[0], &raw, error);

	if (job == NULL)
		return FALSE;
	if (ctx->json)
		slc_context_print_raw(ctx, raw);
	else
		render_job(ctx, job);
	return slc_job_check_outcome(job, error);
}

/**
 * slc_cmd_jobs_cancel:
 * @ctx: the context
 * @args: the job id
 * @error: return location for a #GError
 *
 * `stdiolinkctl jobs cancel ID`: POST /api/jobs/ID/cancel. A running job stops at its
 * next step, so the answer may still say `running`.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_jobs_cancel(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *path = slc_job_path(args->positional[0], "cancel");
	g_autoptr(JsonNode) answer = NULL;
	const char *status;

	if (!slc_context_action(ctx, "POST", path, NULL, &answer, error))
		return FALSE;
	if (ctx->json)
		return TRUE;

	status = slc_json_get_string(answer, "status");
	if (g_strcmp0(status, "canceled") == 0)
		printf(_("Canceled job %s.\n"), args->positional[0]);
	else
		/* TRANSLATORS: a job id, then its status (e.g. “running”) */
		printf(_("Canceling job %s; it is still %s and stops at its next step.\n"),
		       args->positional[0],
		       status != NULL ? status : "-");
	return TRUE;
}

/* ---- scans ----------------------------------------------------------------------------- */

static void
print_json_node(JsonNode *node)
{
	g_autofree char *text = stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);

	puts(text);
	fflush(stdout);
}

/* --no-wait: the job id alone, for `id=$(stdiolinkctl drivers scan --no-wait)` */
static void
print_submitted(SlcContext *ctx, JsonNode *answer, GBytes *raw)
{
	if (ctx->json) {
		slc_context_print_raw(ctx, raw);
		return;
	}
	printf("%s\n", slc_json_get_string(answer, "jobId"));
	fflush(stdout);
}

/**
 * slc_jobs_run:
 * @ctx: the context
 * @path: the route that creates the job, e.g. `/api/drivers/scan`
 * @body: (nullable): its body
 * @wait: whether to follow the job to its end
 * @error: return location for a #GError
 *
 * Submits a job (see slc_job_submit()). Without @wait, prints its id (with `--json` the
 * daemon's answer) and returns. With @wait, follows it (see slc_job_follow()) and prints
 * its result like a synchronous command would: the result fields and the failures, or
 * with `--json` exactly the job's `result` object. A job that failed or was canceled
 * prints nothing on stdout but, with `--json`, the job object.
 *
 * Returns: %TRUE if the job was submitted, and with @wait if it succeeded; a job that
 * failed or was canceled gives %SLC_ERROR_JOB_FAILED
 */
gboolean
slc_jobs_run(SlcContext *ctx, const char *path, JsonNode *body, gboolean wait, GError **error)
{
	g_autoptr(GBytes) raw = NULL;
	g_autoptr(JsonNode) answer = slc_job_submit(ctx, path, body, &raw, error);
	g_autoptr(JsonNode) job = NULL;

	if (answer == NULL)
		return FALSE;
	if (!wait) {
		print_submitted(ctx, answer, raw);
		return TRUE;
	}

	job = slc_job_follow(ctx, slc_json_get_string(answer, "jobId"), NULL, error);
	if (job == NULL)
		return FALSE;
	if (!slc_job_check_outcome(job, error)) {
		if (ctx->json)
			print_json_node(job);
		return FALSE;
	}

	if (ctx->json) {
		print_json_node(slc_json_lookup(job, "result"));
		return TRUE;
	}
	render_result(ctx, job);
	render_failures(ctx, job);
	return TRUE;
}
