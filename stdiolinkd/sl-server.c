#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "sl-http.h"
#include "sl-driverlab.h"
#include "sl-metrics.h"
#include "sl-server.h"
#include "sl-static.h"
#include "sl-sse.h"

/*
 * Routes translate HTTP to one engine call each: decode, call, render. Async engine calls
 * pause the message; the loop keeps serving others until the callback answers it.
 */

struct _SlServer {
	GObject parent_instance;

	StdiolinkEngine *engine;
	SoupServer *soup;
	SlSse *sse;
	guint port;
	gboolean loopback;
	char *last_request; /* "METHOD path" of the last request dispatched, for stall reports */
	char *token;	    /* the bearer token /api requires, or NULL */
	SlMetrics *metrics;
	SlStatic *web;	    /* the web console, for paths outside /api */
	SlDriverlab *driverlab;

	GSocket *listen_socket;
	guint accept_check_id;	   /* the timer of accept_check_cb() */
	guint64 requests_started;  /* to tell a stalled listener from a busy one */
	guint64 requests_at_check;
	guint idle_checks;	   /* checks in a row that found connections waiting, none taken */

	GPtrArray *held;	  /* Pending, the messages paused until an operation ends */
	gboolean closing;	  /* the daemon is shutting down: nothing new is started */
	GTask *close_task;	  /* sl_server_close_async() in progress, or NULL */
	guint answers_in_flight;  /* answered while closing, not yet written */
	guint close_timeout_id;
};

G_DEFINE_FINAL_TYPE(SlServer, sl_server, G_TYPE_OBJECT)

typedef struct {
	SlServer *server;
	SoupServerMessage *msg;
	const char *id;	    /* the {id} segment, decoded */
	GHashTable *query;  /* name -> first value, decoded */
	JsonObject *body;   /* for routes that take one */
} SlRequest;

typedef void (*SlHandler)(SlRequest *req);

typedef struct {
	const char *method;
	const char *pattern;
	SlHandler handler;
	gboolean takes_body;
} SlRoute;

static StdiolinkEngine *
engine_of(SlRequest *req)
{
	return req->server->engine;
}

/* answer with @node, or with @error when @node is NULL */
static void
reply(SlRequest *req, guint status, JsonNode *node, GError *error)
{
	if (node == NULL) {
		sl_http_send_error(req->msg, error);
		return;
	}
	sl_http_send_json(req->msg, status, node);
}

static void
reply_node(SlRequest *req, guint status, JsonNode *node, GError *error)
{
	reply(req, status, node, error);
	g_clear_pointer(&node, json_node_unref);
	g_clear_error(&error);
}

static GError *
shutting_down_error(void)
{
	return g_error_new_literal(STDIOLINK_ERROR, STDIOLINK_ERROR_UNAVAILABLE,
				   "the daemon is shutting down");
}

/* ---- paused replies ----------------------------------------------------------------------- */

typedef struct {
	SlServer *server;
	SoupServerMessage *msg;
	guint success_status;
	gboolean answered; /* by a shutdown, before the operation ended */
} Pending;

static Pending *
pending_new(SlRequest *req, guint success_status)
{
	Pending *pending = g_new0(Pending, 1);

	pending->server = g_object_ref(req->server);
	pending->msg = g_object_ref(req->msg);
	pending->success_status = success_status;
	soup_server_message_pause(req->msg);
	g_ptr_array_add(req->server->held, pending);
	return pending;
}

static void track_answer(SlServer *self, SoupServerMessage *msg);
static void maybe_finish_close(SlServer *self);

/* @error (with @fields) if set, else @node, else 204; the message resumes */
static void
pending_send(Pending *pending, JsonNode *node, const GError *error, JsonObject *fields)
{
	const StdiolinkServerConfig *config = stdiolink_engine_get_config(pending->server->engine);

	sl_http_add_cors(config, pending->msg);
	if (error != NULL)
		sl_http_send_error_fields(pending->msg, error, fields);
	else if (node == NULL)
		sl_http_send_empty(pending->msg, SOUP_STATUS_NO_CONTENT);
	else
		sl_http_send_json(pending->msg, pending->success_status, node);

	/* after a shutdown's disconnect the message has no connection left to resume on */
	if (soup_server_message_get_socket(pending->msg) != NULL)
		soup_server_message_unpause(pending->msg);
	pending->answered = TRUE;
	g_ptr_array_remove_fast(pending->server->held, pending);
	if (pending->server->closing) {
		track_answer(pending->server, pending->msg);
		maybe_finish_close(pending->server);
	}
}

/* answers @pending unless a shutdown did already, and frees it */
static void
pending_answer_fields(Pending *pending, JsonNode *node, const GError *error, JsonObject *fields)
{
	if (!pending->answered)
		pending_send(pending, node, error, fields);
	g_object_unref(pending->msg);
	g_object_unref(pending->server);
	g_free(pending);
}

static void
pending_answer(Pending *pending, JsonNode *node, const GError *error)
{
	pending_answer_fields(pending, node, error, NULL);
}

static void
pending_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	node = stdiolink_engine_project_op_finish(STDIOLINK_ENGINE(source), res, &error);
	pending_answer(user_data, node, error);
}

static void
observe_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	node = stdiolink_engine_observe_finish(STDIOLINK_ENGINE(source), res, &error);
	pending_answer(user_data, node, error);
}

/* ---- handlers --------------------------------------------------------------------------- */

static void
handle_status(SlRequest *req)
{
	reply_node(req, SOUP_STATUS_OK, stdiolink_engine_get_status(engine_of(req)), NULL);
}

static void
handle_services_list(SlRequest *req)
{
	reply_node(req, SOUP_STATUS_OK, stdiolink_engine_list_services(engine_of(req)), NULL);
}

static void
handle_service_get(SlRequest *req)
{
	GError *error = NULL;
	JsonNode *node = stdiolink_engine_get_service(engine_of(req), req->id, &error);

	reply_node(req, SOUP_STATUS_OK, node, error);
}

static void
handle_validate_schema(SlRequest *req)
{
	GError *error = NULL;
	JsonNode *node = stdiolink_engine_validate_schema(engine_of(req), req->id, req->body,
							  &error);

	reply_node(req, SOUP_STATUS_OK, node, error);
}

static void
handle_generate_defaults(SlRequest *req)
{
	GError *error = NULL;
	JsonNode *node = stdiolink_engine_generate_defaults(engine_of(req), req->id, &error);

	reply_node(req, SOUP_STATUS_OK, node, error);
}

static void
handle_validate_config(SlRequest *req)
{
	GError *error = NULL;
	JsonNode *node = stdiolink_engine_validate_config(engine_of(req), req->id, req->body,
							  &error);

	reply_node(req, SOUP_STATUS_OK, node, error);
}

static gint
query_int(SlRequest *req, const char *name, gint fallback)
{
	const char *text = g_hash_table_lookup(req->query, name);
	gint value = 0;

	if (text == NULL)
		return fallback;

	/* present but not a number reads as 0, then the bounds apply, as before */
	if (!sl_http_parse_int(text, &value))
		value = 0;
	return value;
}

static void
handle_projects_list(SlRequest *req)
{
	StdiolinkProjectQuery query = {
		.service_id = g_hash_table_lookup(req->query, "serviceId"),
		.status = g_hash_table_lookup(req->query, "status"),
		.enabled = g_hash_table_lookup(req->query, "enabled"),
		.page = MAX(1, query_int(req, "page", 1)),
		.page_size = CLAMP(query_int(req, "pageSize", 20), 1, 100),
	};

	reply_node(req, SOUP_STATUS_OK, stdiolink_engine_list_projects(engine_of(req), &query),
		   NULL);
}

static void
handle_project_create(SlRequest *req)
{
	Pending *pending = pending_new(req, SOUP_STATUS_CREATED);

	stdiolink_engine_create_project_async(engine_of(req), req->body, NULL, pending_done_cb,
					      pending);
}

static void
handle_project_get(SlRequest *req)
{
	GError *error = NULL;
	JsonNode *node = stdiolink_engine_get_project(engine_of(req), req->id, &error);

	reply_node(req, SOUP_STATUS_OK, node, error);
}

static void
handle_project_update(SlRequest *req)
{
	Pending *pending = pending_new(req, SOUP_STATUS_OK);

	stdiolink_engine_update_project_async(engine_of(req), req->id, req->body, NULL,
					      pending_done_cb, pending);
}

static void
handle_project_delete(SlRequest *req)
{
	Pending *pending = pending_new(req, SOUP_STATUS_NO_CONTENT);

	stdiolink_engine_delete_project_async(engine_of(req), req->id, NULL, pending_done_cb,
					      pending);
}

static void
handle_project_validate(SlRequest *req)
{
	GError *error = NULL;
	JsonNode *node = stdiolink_engine_validate_project(engine_of(req), req->id, req->body,
							   &error);

	reply_node(req, SOUP_STATUS_OK, node, error);
}

static void
handle_project_start(SlRequest *req)
{
	GError *error = NULL;
	JsonNode *node = stdiolink_engine_start_project(engine_of(req), req->id, &error);
	gboolean noop = node != NULL &&
			json_object_has_member(json_node_get_object(node), "noop");

	/* a start is accepted, not finished: started or startFailed follows as an event */
	reply_node(req, noop ? SOUP_STATUS_OK : SOUP_STATUS_ACCEPTED, node, error);
}

static void
handle_project_stop(SlRequest *req)
{
	GError *error = NULL;
	JsonNode *node = stdiolink_engine_stop_project(engine_of(req), req->id, &error);

	reply_node(req, SOUP_STATUS_OK, node, error);
}

static void
handle_project_reload(SlRequest *req)
{
	Pending *pending = pending_new(req, SOUP_STATUS_OK);

	stdiolink_engine_reload_project_async(engine_of(req), req->id, NULL, pending_done_cb,
					      pending);
}

static void
handle_project_enabled(SlRequest *req)
{
	Pending *pending = pending_new(req, SOUP_STATUS_OK);

	stdiolink_engine_set_project_enabled_async(engine_of(req), req->id, req->body, NULL,
						   pending_done_cb, pending);
}

static void
handle_project_runtime(SlRequest *req)
{
	GError *error = NULL;
	JsonNode *node = stdiolink_engine_get_project_runtime(engine_of(req), req->id, &error);

	reply_node(req, SOUP_STATUS_OK, node, error);
}

static void
handle_projects_runtime(SlRequest *req)
{
	const char *ids = g_hash_table_lookup(req->query, "ids");

	reply_node(req, SOUP_STATUS_OK,
		   stdiolink_engine_list_project_runtimes(engine_of(req), ids), NULL);
}

static void
handle_instances_list(SlRequest *req)
{
	const char *project_id = g_hash_table_lookup(req->query, "projectId");

	reply_node(req, SOUP_STATUS_OK,
		   stdiolink_engine_list_instances(engine_of(req), project_id), NULL);
}

static void
handle_instance_get(SlRequest *req)
{
	GError *error = NULL;
	JsonNode *node = stdiolink_engine_get_instance(engine_of(req), req->id, &error);

	reply_node(req, SOUP_STATUS_OK, node, error);
}

static void
handle_instance_terminate(SlRequest *req)
{
	GError *error = NULL;
	JsonNode *node = stdiolink_engine_terminate_instance(engine_of(req), req->id, &error);

	reply_node(req, SOUP_STATUS_OK, node, error);
}

static void
handle_drivers_list(SlRequest *req)
{
	reply_node(req, SOUP_STATUS_OK, stdiolink_engine_list_drivers(engine_of(req)), NULL);
}

static void
handle_driver_get(SlRequest *req)
{
	GError *error = NULL;
	JsonNode *node = stdiolink_engine_get_driver(engine_of(req), req->id, &error);

	reply_node(req, SOUP_STATUS_OK, node, error);
}

static void
handle_driver_docs(SlRequest *req)
{
	GError *error = NULL;
	g_autoptr(JsonNode) detail = stdiolink_engine_get_driver(engine_of(req), req->id, &error);
	const char *content_type = NULL;
	char *text = NULL;

	if (detail != NULL)
		text = stdiolink_driver_docs_render_api(json_node_get_object(detail),
							g_hash_table_lookup(req->query, "format"),
							&content_type, &error);
	if (text == NULL) {
		reply_node(req, SOUP_STATUS_OK, NULL, error);
		return;
	}
	soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response(req->msg, content_type, SOUP_MEMORY_TAKE, text,
					 strlen(text));
}

/* ---- logs, processes, events ------------------------------------------------------------ */

/* `lines`: missing or not an integer reads as the default; the range is the engine's call */
static gint
query_lines(SlRequest *req)
{
	gint value = 0;

	if (!sl_http_parse_int(g_hash_table_lookup(req->query, "lines"), &value))
		return STDIOLINK_LOG_LINES_DEFAULT;
	return value;
}

static void
handle_project_logs(SlRequest *req)
{
	Pending *pending = pending_new(req, SOUP_STATUS_OK);

	stdiolink_engine_read_project_log_async(engine_of(req), req->id, query_lines(req), NULL,
						observe_done_cb, pending);
}

static void
handle_instance_logs(SlRequest *req)
{
	Pending *pending = pending_new(req, SOUP_STATUS_OK);

	stdiolink_engine_read_instance_log_async(engine_of(req), req->id, query_lines(req), NULL,
						 observe_done_cb, pending);
}

static void
handle_process_tree(SlRequest *req)
{
	Pending *pending = pending_new(req, SOUP_STATUS_OK);

	stdiolink_engine_get_process_tree_async(engine_of(req), req->id, NULL, observe_done_cb,
						pending);
}

static void
handle_resources(SlRequest *req)
{
	const char *include = g_hash_table_lookup(req->query, "includeChildren");
	Pending *pending = pending_new(req, SOUP_STATUS_OK);

	/* only the exact value `false` leaves the children out */
	stdiolink_engine_get_resources_async(engine_of(req), req->id,
					     g_strcmp0(include, "false") != 0, NULL,
					     observe_done_cb, pending);
}

static void
handle_events_stream(SlRequest *req)
{
	sl_sse_add_stream(req->server->sse, req->msg, g_hash_table_lookup(req->query, "filter"));
}

static void
handle_events_query(SlRequest *req)
{
	StdiolinkEventBus *bus = stdiolink_engine_get_event_bus(engine_of(req));
	JsonNode *node = stdiolink_event_bus_query(bus, query_int(req, "limit", 0),
						   g_hash_table_lookup(req->query, "type"),
						   g_hash_table_lookup(req->query, "projectId"));

	reply_node(req, SOUP_STATUS_OK, node, NULL);
}

/* ---- service authoring ------------------------------------------------------------------- */

static void
service_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) fields = NULL;
	g_autoptr(JsonNode) node = NULL;

	/* an error may have members of its own, e.g. the associatedProjects of a refused delete */
	node = stdiolink_engine_service_op_finish(STDIOLINK_ENGINE(source), res, &fields, &error);
	pending_answer_fields(user_data, node, error, fields);
}

/* a `path` that does not decode (an escaped NUL) goes on as sent, to be refused as unsafe */
static char *
query_path(SlRequest *req)
{
	const char *path = g_hash_table_lookup(req->query, "path");
	const char *raw = g_uri_get_query(soup_server_message_get_uri(req->msg));
	g_auto(GStrv) pairs = g_strsplit(raw != NULL ? raw : "", "&", -1);

	if (path != NULL)
		return g_strdup(path);
	for (guint i = 0; pairs[i] != NULL; i++) {
		if (g_str_has_prefix(pairs[i], "path="))
			return g_strdup(pairs[i] + strlen("path="));
	}
	return NULL;
}

static GBytes *
request_body(SlRequest *req)
{
	return soup_message_body_flatten(soup_server_message_get_request_body(req->msg));
}

static void
handle_service_create(SlRequest *req)
{
	Pending *pending = pending_new(req, SOUP_STATUS_CREATED);

	stdiolink_engine_create_service_async(engine_of(req), req->body, NULL, service_done_cb,
					      pending);
}

static void
handle_service_delete(SlRequest *req)
{
	/* only the exact value `true` forces */
	gboolean force = g_strcmp0(g_hash_table_lookup(req->query, "force"), "true") == 0;
	Pending *pending = pending_new(req, SOUP_STATUS_NO_CONTENT);

	stdiolink_engine_delete_service_async(engine_of(req), req->id, force, NULL,
					      service_done_cb, pending);
}

static void
handle_service_files(SlRequest *req)
{
	Pending *pending = pending_new(req, SOUP_STATUS_OK);

	stdiolink_engine_list_service_files_async(engine_of(req), req->id, NULL, service_done_cb,
						  pending);
}

static void
handle_service_file_read(SlRequest *req)
{
	g_autofree char *path = query_path(req);
	Pending *pending = pending_new(req, SOUP_STATUS_OK);

	stdiolink_engine_read_service_file_async(engine_of(req), req->id, path, NULL,
						 service_done_cb, pending);
}

/* the body is the engine's to parse: a missing file is reported before a bad body */
static void
handle_service_file_write(SlRequest *req)
{
	g_autofree char *path = query_path(req);
	g_autoptr(GBytes) body = request_body(req);
	Pending *pending = pending_new(req, SOUP_STATUS_OK);

	stdiolink_engine_write_service_file_async(engine_of(req), req->id, path, body, NULL,
						  service_done_cb, pending);
}

static void
handle_service_file_create(SlRequest *req)
{
	g_autofree char *path = query_path(req);
	g_autoptr(GBytes) body = request_body(req);
	Pending *pending = pending_new(req, SOUP_STATUS_CREATED);

	stdiolink_engine_create_service_file_async(engine_of(req), req->id, path, body, NULL,
						   service_done_cb, pending);
}

static void
handle_service_file_delete(SlRequest *req)
{
	g_autofree char *path = query_path(req);
	Pending *pending = pending_new(req, SOUP_STATUS_NO_CONTENT);

	stdiolink_engine_delete_service_file_async(engine_of(req), req->id, path, NULL,
						   service_done_cb, pending);
}

/* registration order matters: the first route whose pattern and method match wins */
/* ---- scans and jobs (DESIGN.md, Jobs) ------------------------------------------------ */

static JsonObject *
job_id_fields(StdiolinkJob *job)
{
	JsonObject *fields = json_object_new();

	json_object_set_string_member(fields, "jobId", stdiolink_job_get_id(job));
	return fields;
}

/* a held scan request: answered as the synchronous API did once the job has ended */
static void
job_waited_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Pending *pending = user_data;
	StdiolinkJobManager *jobs = STDIOLINK_JOB_MANAGER(source);
	g_autoptr(StdiolinkJob) job = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) fields = NULL;

	job = stdiolink_job_manager_wait_finish(jobs, res, &error);
	if (job == NULL) {
		pending_answer(pending, NULL, error);
		return;
	}

	/* the shutdown cancelled it: that, not a client's cancel, is what to say */
	if (pending->server->closing && stdiolink_job_get_status(job) == STDIOLINK_JOB_CANCELED) {
		error = shutting_down_error();
		pending_answer(pending, NULL, error);
		return;
	}
	switch (stdiolink_job_get_status(job)) {
	case STDIOLINK_JOB_SUCCEEDED:
		pending_answer(pending, stdiolink_job_get_result(job), NULL);
		break;
	case STDIOLINK_JOB_FAILED:
		pending_answer(pending, NULL, stdiolink_job_get_error(job));
		break;
	default:
		error = g_error_new_literal(STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT,
					    "job was canceled");
		fields = job_id_fields(job);
		pending_answer_fields(pending, NULL, error, fields);
		break;
	}
}

static void
reply_accepted(SlRequest *req, StdiolinkJob *job)
{
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(req->msg);
	g_autofree char *location = g_strdup_printf("/api/jobs/%s", stdiolink_job_get_id(job));
	StdiolinkJobStatus status = stdiolink_job_get_status(job);
	JsonObject *body = job_id_fields(job);

	json_object_set_string_member(body, "status", stdiolink_job_status_to_string(status));
	soup_message_headers_replace(headers, "Location", location);
	reply_node(req, SOUP_STATUS_ACCEPTED, stdiolink_json_node_new_object(body), NULL);
}

/* 202 with the job, or the answer held until it ends; a conflict names the running job */
static void
answer_submitted(SlRequest *req, StdiolinkJob *job, StdiolinkJob *conflicting, GError *error)
{
	g_autoptr(JsonObject) fields = NULL;

	if (job == NULL) {
		if (conflicting != NULL)
			fields = job_id_fields(conflicting);
		sl_http_send_error_fields(req->msg, error, fields);
		g_error_free(error);
		return;
	}
	if (sl_http_prefers_async(req->msg, req->query)) {
		reply_accepted(req, job);
		return;
	}
	stdiolink_job_manager_wait_async(stdiolink_engine_get_job_manager(engine_of(req)), job,
					 NULL, job_waited_cb, pending_new(req, SOUP_STATUS_OK));
}

typedef StdiolinkJob *(*ScanSubmitFunc)(StdiolinkEngine *engine,
					JsonObject *body,
					gboolean *existing,
					StdiolinkJob **conflicting,
					GError **error);

static void
submit_scan(SlRequest *req, ScanSubmitFunc submit)
{
	g_autoptr(StdiolinkJob) conflicting = NULL;
	g_autoptr(StdiolinkJob) job = NULL;
	GError *error = NULL;

	job = submit(engine_of(req), req->body, NULL, &conflicting, &error);
	answer_submitted(req, job, conflicting, error);
}

static void
handle_drivers_scan(SlRequest *req)
{
	submit_scan(req, stdiolink_engine_scan_drivers);
}

static void
handle_services_scan(SlRequest *req)
{
	submit_scan(req, stdiolink_engine_scan_services);
}

static void
handle_jobs_list(SlRequest *req)
{
	StdiolinkJobManager *jobs = stdiolink_engine_get_job_manager(engine_of(req));
	GError *error = NULL;
	const char *kind = g_hash_table_lookup(req->query, "kind");
	const char *status = g_hash_table_lookup(req->query, "status");
	JsonNode *node = stdiolink_job_manager_list(jobs, kind, status, &error);

	reply_node(req, SOUP_STATUS_OK, node, error);
}

static StdiolinkJob *
lookup_job(SlRequest *req, GError **error)
{
	StdiolinkJobManager *jobs = stdiolink_engine_get_job_manager(engine_of(req));
	StdiolinkJob *job = stdiolink_job_manager_lookup(jobs, req->id);

	if (job == NULL)
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
				    "job not found");
	return job;
}

static void
handle_job_get(SlRequest *req)
{
	GError *error = NULL;
	StdiolinkJob *job = lookup_job(req, &error);

	reply_node(req, SOUP_STATUS_OK, job != NULL ? stdiolink_job_to_json(job) : NULL, error);
}

/* 202: a running job ends (canceled) once its work has stopped, announced by job.canceled */
static void
handle_job_cancel(SlRequest *req)
{
	StdiolinkJobManager *jobs = stdiolink_engine_get_job_manager(engine_of(req));
	GError *error = NULL;
	StdiolinkJob *job = NULL;

	if (stdiolink_job_manager_cancel(jobs, req->id, &error))
		job = lookup_job(req, &error);
	reply_node(req, SOUP_STATUS_ACCEPTED, job != NULL ? stdiolink_job_to_json(job) : NULL,
		   error);
}

static const SlRoute routes[] = {
	{"GET", "/api/server/status", handle_status, FALSE},
	{"GET", "/api/services", handle_services_list, FALSE},
	{"POST", "/api/services", handle_service_create, TRUE},
	{"POST", "/api/services/scan", handle_services_scan, TRUE},
	{"GET", "/api/services/{id}", handle_service_get, FALSE},
	{"DELETE", "/api/services/{id}", handle_service_delete, FALSE},
	{"POST", "/api/services/{id}/validate-schema", handle_validate_schema, TRUE},
	{"POST", "/api/services/{id}/generate-defaults", handle_generate_defaults, FALSE},
	{"POST", "/api/services/{id}/validate-config", handle_validate_config, TRUE},
	{"GET", "/api/services/{id}/files/content", handle_service_file_read, FALSE},
	{"PUT", "/api/services/{id}/files/content", handle_service_file_write, FALSE},
	{"POST", "/api/services/{id}/files/content", handle_service_file_create, FALSE},
	{"DELETE", "/api/services/{id}/files/content", handle_service_file_delete, FALSE},
	{"GET", "/api/services/{id}/files", handle_service_files, FALSE},
	{"GET", "/api/projects", handle_projects_list, FALSE},
	{"POST", "/api/projects", handle_project_create, TRUE},
	{"GET", "/api/projects/runtime", handle_projects_runtime, FALSE},
	{"GET", "/api/projects/{id}", handle_project_get, FALSE},
	{"PUT", "/api/projects/{id}", handle_project_update, TRUE},
	{"DELETE", "/api/projects/{id}", handle_project_delete, FALSE},
	{"POST", "/api/projects/{id}/validate", handle_project_validate, TRUE},
	{"POST", "/api/projects/{id}/start", handle_project_start, FALSE},
	{"POST", "/api/projects/{id}/stop", handle_project_stop, FALSE},
	{"POST", "/api/projects/{id}/reload", handle_project_reload, FALSE},
	{"GET", "/api/projects/{id}/runtime", handle_project_runtime, FALSE},
	{"PATCH", "/api/projects/{id}/enabled", handle_project_enabled, TRUE},
	{"GET", "/api/projects/{id}/logs", handle_project_logs, FALSE},
	{"GET", "/api/instances", handle_instances_list, FALSE},
	{"POST", "/api/instances/{id}/terminate", handle_instance_terminate, FALSE},
	{"GET", "/api/instances/{id}/logs", handle_instance_logs, FALSE},
	{"GET", "/api/instances/{id}/process-tree", handle_process_tree, FALSE},
	{"GET", "/api/instances/{id}/resources", handle_resources, FALSE},
	{"GET", "/api/instances/{id}", handle_instance_get, FALSE},
	{"GET", "/api/drivers", handle_drivers_list, FALSE},
	{"POST", "/api/drivers/scan", handle_drivers_scan, TRUE},
	{"GET", "/api/drivers/{id}", handle_driver_get, FALSE},
	{"GET", "/api/drivers/{id}/docs", handle_driver_docs, FALSE},
	{"GET", "/api/jobs", handle_jobs_list, FALSE},
	{"GET", "/api/jobs/{id}", handle_job_get, FALSE},
	{"POST", "/api/jobs/{id}/cancel", handle_job_cancel, FALSE},
	{"GET", "/api/events/stream", handle_events_stream, FALSE},
	{"GET", "/api/events", handle_events_query, FALSE},
};

/* ---- dispatch ------------------------------------------------------------------------- */

static gboolean
pattern_matches(const char *pattern, char **segments, const char **id)
{
	g_auto(GStrv) parts = g_strsplit(pattern, "/", -1);
	guint i;

	for (i = 0; parts[i] != NULL && segments[i] != NULL; i++) {
		if (g_str_equal(parts[i], "{id}")) {
			if (*segments[i] == '\0')
				return FALSE;
			*id = segments[i];
		} else if (!g_str_equal(parts[i], segments[i])) {
			return FALSE;
		}
	}
	return parts[i] == NULL && segments[i] == NULL;
}

/* `OPTIONS /api/<1 to 5 segments>` is a CORS preflight */
static gboolean
is_preflight_path(char **segments)
{
	guint n = g_strv_length(segments);

	if (n < 3 || n > 7 || !g_str_equal(segments[1], "api"))
		return FALSE;
	for (guint i = 2; i < n; i++) {
		if (*segments[i] == '\0')
			return FALSE;
	}
	return TRUE;
}

static void
send_not_found(SoupServerMessage *msg)
{
	g_autoptr(GError) error = g_error_new_literal(STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND,
						      "not found");

	sl_http_send_error(msg, error);
}

static void
send_not_allowed(SoupServerMessage *msg, GString *allow)
{
	g_autoptr(GError) error = g_error_new_literal(
	    STDIOLINK_ERROR, STDIOLINK_ERROR_METHOD_NOT_ALLOWED, "method not allowed");

	soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow",
				     allow->str);
	sl_http_send_error(msg, error);
}

/*
 * Until the start-up scan has loaded the data root, changes would be lost when it commits;
 * reads, scans and jobs are served.
 */
static gboolean
refuse_while_loading(SlServer *self, SoupServerMessage *msg, const SlRoute *route)
{
	g_autoptr(GError) error = NULL;

	if (stdiolink_engine_is_loaded(self->engine) || g_str_equal(route->method, "GET") ||
	    g_str_has_suffix(route->pattern, "/scan") ||
	    g_str_has_prefix(route->pattern, "/api/jobs"))
		return FALSE;

	error = g_error_new_literal(STDIOLINK_ERROR, STDIOLINK_ERROR_UNAVAILABLE,
				    "the daemon is still loading its data root");
	soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
				     "1");
	sl_http_send_error(msg, error);
	return TRUE;
}

/* between SIGTERM and the moment the listener closes, nothing new is started */
static gboolean
refuse_while_closing(SlServer *self, SoupServerMessage *msg)
{
	g_autoptr(GError) error = NULL;

	if (!self->closing)
		return FALSE;
	error = shutting_down_error();
	sl_http_send_error(msg, error);
	track_answer(self, msg);
	return TRUE;
}

static void
run_route(SlServer *self, SoupServerMessage *msg, const SlRoute *route, const char *id)
{
	GUri *uri = soup_server_message_get_uri(msg);
	g_autoptr(GHashTable) query = sl_http_parse_query(g_uri_get_query(uri));
	g_autoptr(JsonObject) body = NULL;
	g_autoptr(GError) error = NULL;
	SlRequest req = {self, msg, id, query, NULL};

	sl_metrics_set_route(msg, route->pattern);
	if (refuse_while_closing(self, msg) || refuse_while_loading(self, msg, route))
		return;

	if (route->takes_body) {
		body = sl_http_parse_body(msg, &error);
		if (body == NULL) {
			sl_http_send_error(msg, error);
			return;
		}
		req.body = body;
	}
	route->handler(&req);
}

static void
dispatch(SlServer *self, SoupServerMessage *msg, char **segments)
{
	const char *method = soup_server_message_get_method(msg);
	g_autoptr(GString) allow = g_string_new(NULL);

	/* HEAD is GET without the body, which libsoup leaves out by itself */
	if (g_str_equal(method, "HEAD"))
		method = "GET";
	if (g_str_equal(method, "OPTIONS")) {
		if (is_preflight_path(segments))
			sl_http_send_empty(msg, SOUP_STATUS_NO_CONTENT);
		else
			send_not_found(msg);
		return;
	}
	for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
		const char *id = NULL;

		if (!pattern_matches(routes[i].pattern, segments, &id))
			continue;
		if (g_str_equal(routes[i].method, method)) {
			run_route(self, msg, &routes[i], id);
			return;
		}
		if (strstr(allow->str, routes[i].method) == NULL)
			g_string_append_printf(allow, "%s%s", allow->len > 0 ? ", " : "",
					       routes[i].method);
	}

	/* a known path with another method is 405 with Allow; an unknown path is 404 */
	if (allow->len > 0)
		send_not_allowed(msg, allow);
	else
		send_not_found(msg);
}

/* Prometheus text, outside /api as scrapers expect it */
static void
send_metrics(SlServer *self, SoupServerMessage *msg)
{
	char *text = sl_metrics_render(self->metrics, self->engine, self->sse);

	sl_metrics_set_route(msg, "/metrics");
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response(msg, "text/plain; version=0.0.4; charset=utf-8",
					 SOUP_MEMORY_TAKE, text, strlen(text));
}

static void refuse_oversized(const StdiolinkServerConfig *config, SoupServerMessage *msg);

static void
handler_cb(SoupServer *soup,
	   SoupServerMessage *msg,
	   const char *path,
	   GHashTable *unused_query,
	   gpointer user_data)
{
	SlServer *self = user_data;
	const StdiolinkServerConfig *config = stdiolink_engine_get_config(self->engine);
	g_autofree char *decoded = g_uri_unescape_string(path, NULL);
	g_auto(GStrv) segments = NULL;

	g_debug("%s %s", soup_server_message_get_method(msg), path);
	g_free(self->last_request);
	self->last_request = g_strdup_printf("%s %s", soup_server_message_get_method(msg), path);

	/* during a shutdown nothing new starts: no route, no DriverLab session, no page */
	if (refuse_while_closing(self, msg))
		return;

	/* a DriverLab upgrade is refused as plain text, or left to the WebSocket handler */
	if (sl_driverlab_check_upgrade(self->driverlab, msg, path))
		return;
	sl_http_add_cors(config, msg);
	if (decoded == NULL) {
		send_not_found(msg);
		return;
	}
	/*
	 * A chunked body has no announced length, so libsoup read all of it; answered the
	 * usual way, libsoup 3.2 then keeps the socket in CLOSE-WAIT for good. The refusal
	 * path answers and closes the connection itself.
	 */
	if (soup_server_message_get_request_body(msg)->length > SL_HTTP_BODY_LIMIT) {
		refuse_oversized(config, msg);
		return;
	}
	if (g_str_equal(decoded, "/metrics") &&
	    g_str_equal(soup_server_message_get_method(msg), "GET")) {
		send_metrics(self, msg);
		return;
	}
	if (sl_static_handle(self->web, msg, decoded))
		return;
	segments = g_strsplit(decoded, "/", -1);
	dispatch(self, msg, segments);
}

/* ---- answering before the body --------------------------------------------------------- */

/* how long a refused client may go on sending before the connection is closed anyway */
#define REFUSAL_LINGER_MS 5000

typedef struct {
	GIOStream *stream;
	GSocket *socket; /* to stop writing while reading on */
	char *response;
	GCancellable *cancellable;
	guint linger_id;
	char discard[16384];
} Refusal;

static void
refusal_free(Refusal *refusal)
{
	g_clear_handle_id(&refusal->linger_id, g_source_remove);
	g_io_stream_close_async(refusal->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
	g_object_unref(refusal->stream);
	g_clear_object(&refusal->socket);
	g_object_unref(refusal->cancellable);
	g_free(refusal->response);
	g_free(refusal);
}

static gboolean
refusal_linger_expired_cb(gpointer user_data)
{
	Refusal *refusal = user_data;

	refusal->linger_id = 0;
	g_cancellable_cancel(refusal->cancellable);
	return G_SOURCE_REMOVE;
}

static void refusal_read_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
refusal_read_more(Refusal *refusal)
{
	GInputStream *in = g_io_stream_get_input_stream(refusal->stream);

	g_input_stream_read_async(in, refusal->discard, sizeof(refusal->discard),
				  G_PRIORITY_LOW, refusal->cancellable, refusal_read_cb, refusal);
}

/* the rest of the body is read into one small buffer and dropped, until EOF or time */
static void
refusal_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Refusal *refusal = user_data;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, NULL);

	if (n <= 0) {
		refusal_free(refusal);
		return;
	}
	refusal_read_more(refusal);
}

/*
 * Closing a socket with unread bytes makes the kernel reset the connection, and the
 * client would lose the 413 it has not read yet. So: answer, stop writing, then drain.
 */
static void
refusal_written_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Refusal *refusal = user_data;

	g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, NULL);
	if (refusal->socket != NULL)
		g_socket_shutdown(refusal->socket, FALSE, TRUE, NULL);
	refusal->linger_id = g_timeout_add(REFUSAL_LINGER_MS, refusal_linger_expired_cb, refusal);
	refusal_read_more(refusal);
}

/*
 * libsoup 3.2 reads a request's whole body before it sends any answer, even one set while
 * only the headers are in. For a body announced over the limit the daemon takes the
 * connection over, writes the 413 itself and closes, so not one byte of it is buffered.
 */
static void
refuse_oversized(const StdiolinkServerConfig *config, SoupServerMessage *msg)
{
	g_autoptr(JsonObject) body = json_object_new();
	g_autofree char *text = NULL;
	GString *response = g_string_new("HTTP/1.1 413 Payload Too Large\r\n");
	Refusal *refusal = g_new0(Refusal, 1);
	GOutputStream *out;

	json_object_set_string_member(body, "error", "request body too large (limit 1MB)");
	json_object_set_string_member(body, "code",
				      stdiolink_error_to_code(STDIOLINK_ERROR_PAYLOAD_TOO_LARGE));
	text = stdiolink_json_object_to_string(body, STDIOLINK_JSON_COMPACT);

	g_string_append(response, "Content-Type: application/json\r\nConnection: close\r\n");
	g_string_append_printf(response, "Content-Length: %zu\r\n", strlen(text));
	if (config->cors_origin != NULL && *config->cors_origin != '\0')
		g_string_append_printf(response, "Access-Control-Allow-Origin: %s\r\n",
				       config->cors_origin);
	g_string_append_printf(response, "\r\n%s", text);
	refusal->response = g_string_free(response, FALSE);

	if (soup_server_message_get_socket(msg) != NULL)
		refusal->socket = g_object_ref(soup_server_message_get_socket(msg));
	refusal->stream = soup_server_message_steal_connection(msg);
	refusal->cancellable = g_cancellable_new();
	out = g_io_stream_get_output_stream(refusal->stream);
	g_output_stream_write_all_async(out, refusal->response, strlen(refusal->response),
					G_PRIORITY_DEFAULT, NULL, refusal_written_cb, refusal);
}

/* the API, its streams and metrics need the token; the web console and preflights do not */
static gboolean
needs_token(SoupServerMessage *msg, const char *path)
{
	g_autofree char *decoded = g_uri_unescape_string(path, NULL);

	if (g_str_equal(soup_server_message_get_method(msg), "OPTIONS"))
		return FALSE;
	if (decoded == NULL)
		return TRUE;
	return g_str_equal(decoded, "/api") || g_str_has_prefix(decoded, "/api/") ||
	       g_str_equal(decoded, "/metrics");
}

/*
 * Runs once the headers are in, before the body is read: a foreign origin or a rebinding
 * Host is answered here, so nothing of the request takes effect.
 */
static void
early_handler_cb(SoupServer *soup,
		 SoupServerMessage *msg,
		 const char *path,
		 GHashTable *unused_query,
		 gpointer user_data)
{
	SlServer *self = user_data;
	const StdiolinkServerConfig *config = stdiolink_engine_get_config(self->engine);
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	g_autoptr(GError) error = NULL;

	if (!sl_http_check_host(config, self->loopback, msg, &error) ||
	    !sl_http_check_origin(config, msg, &error)) {
		g_info("refused %s %s: %s", soup_server_message_get_method(msg), path,
		       error->message);
		sl_http_send_error(msg, error);
		return;
	}
	if (needs_token(msg, path) && !sl_http_check_token(self->token, msg, &error)) {
		g_info("refused %s %s: %s", soup_server_message_get_method(msg), path,
		       error->message);
		soup_message_headers_replace(soup_server_message_get_response_headers(msg),
					     "WWW-Authenticate", "Bearer realm=\"stdiolink\"");
		sl_http_send_error(msg, error);
		return;
	}
	if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH &&
	    soup_message_headers_get_content_length(headers) > SL_HTTP_BODY_LIMIT)
		refuse_oversized(config, msg);
}

/*
 * libsoup 3.2 never notices when a client closes an idle keep-alive connection, so each
 * such connection would keep a descriptor forever (fixed upstream in 3.3). Until the
 * platform's libsoup has the fix, every answer closes its connection.
 */
static void
request_started_cb(SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
	SlServer *self = user_data;

	soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection",
				     "close");
	sl_metrics_request_started(self->metrics, msg);
	self->requests_started++;
}

static void
request_finished_cb(SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
	SlServer *self = user_data;

	sl_metrics_request_finished(self->metrics, msg);
}

static void
sl_server_dispose(GObject *object)
{
	SlServer *self = SL_SERVER(object);

	if (self->sse != NULL)
		sl_sse_close_all(self->sse);
	if (self->driverlab != NULL)
		sl_driverlab_close_all(self->driverlab);
	g_clear_handle_id(&self->accept_check_id, g_source_remove);
	if (self->soup != NULL)
		soup_server_disconnect(self->soup);
	g_clear_object(&self->soup);
	g_clear_object(&self->listen_socket);
	g_clear_object(&self->sse);
	g_clear_object(&self->driverlab);
	g_clear_object(&self->engine);
	g_clear_pointer(&self->last_request, g_free);
	g_clear_pointer(&self->token, g_free);
	g_clear_pointer(&self->metrics, sl_metrics_free);
	g_clear_pointer(&self->web, sl_static_free);
	g_clear_handle_id(&self->close_timeout_id, g_source_remove);
	g_clear_pointer(&self->held, g_ptr_array_unref);
	G_OBJECT_CLASS(sl_server_parent_class)->dispose(object);
}

static void
sl_server_class_init(SlServerClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = sl_server_dispose;
}

static void
sl_server_init(SlServer *self)
{
	self->held = g_ptr_array_new();
}

/**
 * sl_server_new:
 * @engine: the engine the routes call
 *
 * Returns: (transfer full): a server that does not listen yet
 */
SlServer *
sl_server_new(StdiolinkEngine *engine)
{
	SlServer *self = g_object_new(SL_TYPE_SERVER, NULL);

	self->engine = g_object_ref(engine);
	self->web = sl_static_new(stdiolink_engine_get_data_root(engine),
				  stdiolink_engine_get_config(engine)->webui_dir);
	self->sse = sl_sse_new(stdiolink_engine_get_event_bus(engine));
	self->soup = soup_server_new("server-header", "stdiolinkd/" PACKAGE_VERSION " ", NULL);
	self->metrics = sl_metrics_new();
	g_signal_connect(self->soup, "request-started", G_CALLBACK(request_started_cb), self);
	g_signal_connect(self->soup, "request-finished", G_CALLBACK(request_finished_cb), self);
	soup_server_add_early_handler(self->soup, NULL, early_handler_cb, self, NULL);
	soup_server_add_handler(self->soup, NULL, handler_cb, self, NULL);

	/* the WebSocket handler needs a path of its own; the same checks and routes apply */
	self->driverlab = sl_driverlab_new(engine);
	soup_server_add_early_handler(self->soup, SL_DRIVERLAB_PATH, early_handler_cb, self, NULL);
	soup_server_add_handler(self->soup, SL_DRIVERLAB_PATH, handler_cb, self, NULL);
	sl_driverlab_attach(self->driverlab, self->soup);
	return self;
}

static GInetAddress *
parse_host(const char *host, GError **error)
{
	GInetAddress *address;

	/* names would need a resolver round trip; loopback is the one name we take */
	if (g_ascii_strcasecmp(host, "localhost") == 0)
		return g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	address = g_inet_address_new_from_string(host);
	if (address == NULL)
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "host must be an IP address or localhost: %s", host);
	return address;
}

/* how often the listening socket is looked at for connections nobody accepts */
#define ACCEPT_CHECK_MS 500

/*
 * libsoup 3.2's listener gives up for good on the first accept() that fails: out of file
 * descriptors, or a client that reset its connection before it was accepted. The daemon
 * would then hang every new client. Connections waiting at two checks in a row while no
 * request started in between mean that nobody accepts them: listen again.
 */
static gboolean
accept_check_cb(gpointer user_data)
{
	SlServer *self = user_data;
	gboolean waiting = g_socket_condition_check(self->listen_socket, G_IO_IN) & G_IO_IN;
	g_autoptr(GError) error = NULL;

	if (!waiting || self->requests_started != self->requests_at_check)
		self->idle_checks = 0;
	else
		self->idle_checks++;
	self->requests_at_check = self->requests_started;
	if (self->idle_checks < 2)
		return G_SOURCE_CONTINUE;

	g_warning("HTTP: connections wait and none is accepted (too many open files?); "
		  "listening again");
	self->idle_checks = 0;
	if (!soup_server_listen_socket(self->soup, self->listen_socket, 0, &error))
		g_warning("HTTP: cannot listen again: %s", error->message);
	return G_SOURCE_CONTINUE;
}

#define LISTEN_BACKLOG 1024

/**
 * sl_server_listen:
 * @self: the server
 * @host: an IP address or `localhost`
 * @port: a port, or 0 for any free one
 * @error: return location for a #GError
 *
 * Returns: %TRUE if listening
 */
gboolean
sl_server_listen(SlServer *self, const char *host, guint port, GError **error)
{
	g_autoptr(GInetAddress) address = parse_host(host, error);
	g_autoptr(GSocketAddress) socket_address = NULL;
	g_autoptr(GSocket) socket = NULL;

	if (address == NULL)
		return FALSE;
	socket_address = g_inet_socket_address_new(address, (guint16)port);
	socket = g_socket_new(g_inet_address_get_family(address), G_SOCKET_TYPE_STREAM,
			      G_SOCKET_PROTOCOL_TCP, error);
	if (socket == NULL || !g_socket_bind(socket, socket_address, TRUE, error))
		return FALSE;

	/*
	 * GLib's default backlog is 10: with every connection closed after its answer, a burst
	 * of clients overflows it and waits for the kernel's one-second SYN retry.
	 */
	g_socket_set_listen_backlog(socket, LISTEN_BACKLOG);
	if (!g_socket_listen(socket, error))
		return FALSE;
	return sl_server_listen_socket(self, socket, error);
}

/**
 * sl_server_listen_socket:
 * @self: the server
 * @socket: a socket already bound and listening, e.g. from socket activation
 * @error: return location for a #GError
 *
 * Returns: %TRUE if serving on @socket
 */
gboolean
sl_server_listen_socket(SlServer *self, GSocket *socket, GError **error)
{
	g_autoptr(GSocketAddress) local = g_socket_get_local_address(socket, error);
	GInetAddress *address;

	if (local == NULL || !G_IS_INET_SOCKET_ADDRESS(local)) {
		if (local != NULL)
			g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
					    _("the passed socket is not an IP socket"));
		return FALSE;
	}
	if (!soup_server_listen_socket(self->soup, socket, 0, error))
		return FALSE;
	g_set_object(&self->listen_socket, socket);
	self->accept_check_id = g_timeout_add(ACCEPT_CHECK_MS, accept_check_cb, self);
	address = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(local));
	self->loopback = g_inet_address_get_is_loopback(address);
	self->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
	return TRUE;
}

/**
 * sl_server_get_port:
 * @self: the server
 *
 * Returns: the port really listened on
 */
guint
sl_server_get_port(SlServer *self)
{
	return self->port;
}

/**
 * sl_server_set_token:
 * @self: the server
 * @token: (nullable): the bearer token every `/api/` request must carry, or %NULL for none
 */
void
sl_server_set_token(SlServer *self, const char *token)
{
	g_free(self->token);
	self->token = g_strdup(token);
}

/**
 * sl_server_get_last_request:
 * @self: the server
 *
 * Returns: (nullable): `METHOD path` of the last request handed to a route
 */
const char *
sl_server_get_last_request(SlServer *self)
{
	return self->last_request;
}

/**
 * sl_server_get_sse:
 * @self: the server
 *
 * Returns: (transfer none): the event streams, with their counters
 */
SlSse *
sl_server_get_sse(SlServer *self)
{
	return self->sse;
}

/* ---- closing ------------------------------------------------------------------------------- */

/*
 * After the engine has stopped, an operation that was waiting for its instances may still
 * be finishing (a deletion removing its folder): it gets this long to answer for itself.
 * Then what is still held is refused, and a refusal gets this long to be written.
 */
#define CLOSE_HELD_WAIT_MS 2000
#define CLOSE_FLUSH_MS	   1000

/* stops listening and drops every connection at once */
static void
disconnect_all(SlServer *self)
{
	g_clear_handle_id(&self->accept_check_id, g_source_remove);
	sl_sse_close_all(self->sse);
	sl_driverlab_close_all(self->driverlab);
	soup_server_disconnect(self->soup);
}

static void
close_finish(SlServer *self)
{
	g_autoptr(GTask) task = g_steal_pointer(&self->close_task);

	g_clear_handle_id(&self->close_timeout_id, g_source_remove);
	disconnect_all(self);
	g_task_return_boolean(task, TRUE);
}

/* the connections go once nothing is held and every answer given meanwhile is written */
static void
maybe_finish_close(SlServer *self)
{
	if (self->close_task != NULL && self->held->len == 0 && self->answers_in_flight == 0)
		close_finish(self);
}

static void
answer_written_cb(SoupServerMessage *msg, gpointer user_data)
{
	SlServer *self = user_data;

	g_signal_handlers_disconnect_by_func(msg, answer_written_cb, self);
	self->answers_in_flight--;
	maybe_finish_close(self);
}

/* an answer given during the shutdown: the close waits for it to be written */
static void
track_answer(SlServer *self, SoupServerMessage *msg)
{
	/* a client that left has nothing to wait for */
	if (soup_server_message_get_socket(msg) == NULL)
		return;
	g_signal_connect_object(msg, "finished", G_CALLBACK(answer_written_cb), self, 0);
	self->answers_in_flight++;
}

static gboolean
close_timeout_cb(gpointer user_data)
{
	SlServer *self = user_data;

	self->close_timeout_id = 0;
	close_finish(self);
	return G_SOURCE_REMOVE;
}

/* what no operation answered in time is told why, instead of being cut off */
static gboolean
refuse_held_cb(gpointer user_data)
{
	SlServer *self = user_data;
	g_autoptr(GPtrArray) held = g_ptr_array_copy(self->held, NULL, NULL);
	g_autoptr(GError) error = shutting_down_error();

	self->close_timeout_id = 0;
	for (guint i = 0; i < held->len; i++)
		pending_send(held->pdata[i], NULL, error, NULL);
	if (self->close_task != NULL)
		self->close_timeout_id = g_timeout_add(CLOSE_FLUSH_MS, close_timeout_cb, self);
	return G_SOURCE_REMOVE;
}

/**
 * sl_server_begin_close:
 * @self: the server
 *
 * The shutdown's first step: from now on every request is answered 503 `unavailable`, while
 * the requests already held until an operation ends (a scan, a project change waiting for
 * its instances) still get their real answer when it does. A scan cancelled by the
 * shutdown is answered 503 too.
 */
void
sl_server_begin_close(SlServer *self)
{
	g_return_if_fail(SL_IS_SERVER(self));

	self->closing = TRUE;
}

/**
 * sl_server_close_async:
 * @self: the server
 * @callback: called once the server has stopped listening and dropped its connections
 * @user_data: for @callback
 *
 * The shutdown's last step, once the engine has stopped. Requests still held get up to
 * CLOSE_HELD_WAIT_MS for their operation to answer them, then 503 `unavailable`; the
 * connections are dropped once every answer is written, or CLOSE_FLUSH_MS later. New
 * requests get 503 meanwhile.
 */
void
sl_server_close_async(SlServer *self, GAsyncReadyCallback callback, gpointer user_data)
{
	g_return_if_fail(self->close_task == NULL);
	self->closing = TRUE;
	self->close_task = g_task_new(self, NULL, callback, user_data);
	g_task_set_source_tag(self->close_task, sl_server_close_async);

	if (self->held->len > 0)
		self->close_timeout_id = g_timeout_add(CLOSE_HELD_WAIT_MS, refuse_held_cb, self);
	else if (self->answers_in_flight > 0)
		self->close_timeout_id = g_timeout_add(CLOSE_FLUSH_MS, close_timeout_cb, self);
	else
		close_finish(self);
}

gboolean
sl_server_close_finish(SlServer *self, GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}
