#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>

#include "stdiolink-driver-docs.h"
#include "stdiolink-driver-helper.h"
#include "stdiolink-driver.h"
#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-jsonl.h"
#include "stdiolink-schema.h"

/*
 * One request at a time: stdin is read ahead into a queue of lines, the head is handled,
 * and the next is taken only once the handler has ended the request. Replies go to fd 1
 * as whole lines; everything else (logging) goes to stderr, which the host never reads
 * as protocol.
 */

#define READ_CHUNK 65536

typedef struct {
	char *name;
	JsonObject *meta;   /* as registered */
	GPtrArray *params;  /* StdiolinkFieldMeta */
	StdiolinkDriverCommandFunc func;
	gpointer user_data;
} Command;

struct _StdiolinkDriverHelper {
	GObject parent_instance;

	char *id;
	char *name;
	char *version;
	char *description;
	char *vendor;
	GPtrArray *commands; /* Command, registration order */

	/* one run */
	GMainLoop *loop;
	gboolean keepalive;
	gboolean console;
	StdiolinkJsonlReader *reader;
	GInputStream *in;
	guint8 *chunk;
	GQueue lines;	       /* GBytes; an empty one marks a line over the limit */
	gboolean reading;
	gboolean eof;
	gboolean busy;	       /* a request is being handled */
	gboolean took_one;     /* oneshot: the one request was taken */
	guint pump_id;
	StdiolinkJsonlStatus last_status;
	gint64 last_code;
};

G_DEFINE_FINAL_TYPE(StdiolinkDriverHelper, stdiolink_driver_helper, G_TYPE_OBJECT)

struct _StdiolinkDriverReply {
	grefcount ref;
	StdiolinkDriverHelper *helper;
	char *command;
	gboolean finished;
};

static void
command_free(gpointer data)
{
	Command *command = data;

	g_free(command->name);
	json_object_unref(command->meta);
	g_ptr_array_unref(command->params);
	g_free(command);
}

static void
stdiolink_driver_helper_finalize(GObject *object)
{
	StdiolinkDriverHelper *self = STDIOLINK_DRIVER_HELPER(object);

	g_free(self->id);
	g_free(self->name);
	g_free(self->version);
	g_free(self->description);
	g_free(self->vendor);
	g_ptr_array_unref(self->commands);
	G_OBJECT_CLASS(stdiolink_driver_helper_parent_class)->finalize(object);
}

static void
stdiolink_driver_helper_class_init(StdiolinkDriverHelperClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = stdiolink_driver_helper_finalize;
}

static void
stdiolink_driver_helper_init(StdiolinkDriverHelper *self)
{
	self->commands = g_ptr_array_new_with_free_func(command_free);
	g_queue_init(&self->lines);
}

/**
 * stdiolink_driver_helper_new:
 * @id: the driver id (`info.id`), non-empty
 * @name: the display name (`info.name`), non-empty
 * @version: the version (`info.version`)
 *
 * Returns: (transfer full): a helper without commands
 */
StdiolinkDriverHelper *
stdiolink_driver_helper_new(const char *id, const char *name, const char *version)
{
	StdiolinkDriverHelper *self = g_object_new(STDIOLINK_TYPE_DRIVER_HELPER, NULL);

	self->id = g_strdup(id != NULL ? id : "");
	self->name = g_strdup(name != NULL ? name : "");
	self->version = g_strdup(version != NULL ? version : "");
	return self;
}

/**
 * stdiolink_driver_helper_set_description:
 * @self: the helper
 * @description: (nullable): `info.description`
 */
void
stdiolink_driver_helper_set_description(StdiolinkDriverHelper *self, const char *description)
{
	g_free(self->description);
	self->description = g_strdup(description);
}

/**
 * stdiolink_driver_helper_set_vendor:
 * @self: the helper
 * @vendor: (nullable): `info.vendor`
 */
void
stdiolink_driver_helper_set_vendor(StdiolinkDriverHelper *self, const char *vendor)
{
	g_free(self->vendor);
	self->vendor = g_strdup(vendor);
}

static Command *
find_command(StdiolinkDriverHelper *self, const char *name)
{
	for (guint i = 0; i < self->commands->len; i++) {
		Command *command = g_ptr_array_index(self->commands, i);

		if (g_str_equal(command->name, name))
			return command;
	}
	return NULL;
}

static gboolean
set_meta_error(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean
set_meta_error(GError **error, const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST, message);
	return FALSE;
}

/* parameter names non-empty and unique per command (schema.md 6.1) */
static gboolean
check_params(const char *command, GPtrArray *params, GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < params->len; i++) {
		const char *name = stdiolink_field_meta_get_name(g_ptr_array_index(params, i));

		if (name == NULL || *name == '\0')
			return set_meta_error(error,
					      "Parameter name cannot be empty in command '%s'",
					      command);
		if (!g_hash_table_add(seen, (gpointer)name))
			return set_meta_error(error, "Duplicate parameter '%s' in command '%s'",
					      name, command);
	}
	return TRUE;
}

/**
 * stdiolink_driver_helper_add_command:
 * @self: the helper
 * @command_meta: a CommandMeta JSON object (schema.md 6): `name`, `description`, `params`
 *   (FieldMeta, encoding B), `returns`, `events`, `examples`...
 * @func: (scope forever): the handler
 * @user_data: for @func; must outlive @self
 * @error: return location for a #GError
 *
 * Registers a command. Requests for it get their `data` default-filled and validated
 * against `params` before @func sees them. Refused with %STDIOLINK_ERROR_BAD_REQUEST and
 * the messages of the meta checker (schema.md 6.1): `Command name cannot be empty`,
 * `Duplicate command name: '<n>'`, `Parameter name cannot be empty in command '<c>'`,
 * `Duplicate parameter '<p>' in command '<c>'`; or when @command_meta is not a JSON object.
 *
 * Returns: %TRUE if registered
 */
gboolean
stdiolink_driver_helper_add_command(StdiolinkDriverHelper *self,
				    const char *command_meta,
				    StdiolinkDriverCommandFunc func,
				    gpointer user_data,
				    GError **error)
{
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GPtrArray) params = NULL;
	JsonObject *object;
	const char *name;
	Command *command;

	g_return_val_if_fail(STDIOLINK_IS_DRIVER_HELPER(self), FALSE);
	g_return_val_if_fail(command_meta != NULL && func != NULL, FALSE);

	root = stdiolink_json_parse(command_meta, -1, error);
	if (root == NULL)
		return FALSE;
	if (!JSON_NODE_HOLDS_OBJECT(root))
		return set_meta_error(error, "command meta must be a JSON object");
	object = json_node_get_object(root);
	name = stdiolink_json_object_get_string(object, "name");
	if (name == NULL || *name == '\0')
		return set_meta_error(error, "Command name cannot be empty");
	if (find_command(self, name) != NULL)
		return set_meta_error(error, "Duplicate command name: '%s'", name);
	params = stdiolink_fields_new_from_json(json_object_get_member(object, "params"));
	if (!check_params(name, params, error))
		return FALSE;

	command = g_new0(Command, 1);
	command->name = g_strdup(name);
	command->meta = json_object_ref(object);
	command->params = g_steal_pointer(&params);
	command->func = func;
	command->user_data = user_data;
	g_ptr_array_add(self->commands, command);
	return TRUE;
}

/**
 * stdiolink_driver_helper_get_meta:
 * @self: the helper
 *
 * The DriverMeta (schema.md 6) that `meta.describe` answers and `--export-meta` writes:
 * schema version 1.0, the info, both profiles, and the commands in registration order,
 * normalized as the daemon re-serializes driver meta.
 *
 * Returns: (transfer full): the meta object node
 */
JsonNode *
stdiolink_driver_helper_get_meta(StdiolinkDriverHelper *self)
{
	g_autoptr(JsonObject) raw = json_object_new();
	JsonObject *info = json_object_new();
	JsonArray *profiles = json_array_new();
	JsonArray *commands = json_array_new();

	json_object_set_string_member(info, "id", self->id);
	json_object_set_string_member(info, "name", self->name);
	json_object_set_string_member(info, "version", self->version);
	if (self->description != NULL)
		json_object_set_string_member(info, "description", self->description);
	if (self->vendor != NULL)
		json_object_set_string_member(info, "vendor", self->vendor);
	json_array_add_string_element(profiles, "oneshot");
	json_array_add_string_element(profiles, "keepalive");
	json_object_set_array_member(info, "profiles", profiles);

	for (guint i = 0; i < self->commands->len; i++) {
		Command *command = g_ptr_array_index(self->commands, i);

		json_array_add_object_element(commands, json_object_ref(command->meta));
	}
	json_object_set_string_member(raw, "schemaVersion", "1.0");
	json_object_set_object_member(raw, "info", info);
	json_object_set_array_member(raw, "commands", commands);
	return stdiolink_driver_meta_normalize(raw);
}

/* ---- output ---------------------------------------------------------------------------- */

/* a whole line to fd 1 in one go; a host that went away is no reason to crash */
static void
write_line(const char *line)
{
	gsize length = strlen(line);
	gsize done = 0;

	while (done < length) {
		ssize_t n = write(STDOUT_FILENO, line + done, length - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		done += (gsize)n;
	}
}

static void
write_response(StdiolinkJsonlStatus status, gint64 code, JsonNode *data)
{
	g_autoptr(StdiolinkJsonlResponse) response = stdiolink_jsonl_response_new(status, code,
										  data);
	g_autofree char *line = stdiolink_jsonl_response_to_line(response);

	write_line(line);
}

/* error data of the driver framework: {"name": ..., "message": ...} (protocol.md 3.2) */
static JsonNode *
named_error(const char *name, const char *message)
{
	JsonObject *data = json_object_new();

	json_object_set_string_member(data, "name", name);
	json_object_set_string_member(data, "message", message);
	return stdiolink_json_node_new_object(data);
}

/* ---- replies --------------------------------------------------------------------------- */

static void request_finished(StdiolinkDriverHelper *self,
			     StdiolinkJsonlStatus status,
			     gint64 code);

static StdiolinkDriverReply *
reply_new(StdiolinkDriverHelper *self, const char *command)
{
	StdiolinkDriverReply *reply = g_new0(StdiolinkDriverReply, 1);

	g_ref_count_init(&reply->ref);
	reply->helper = g_object_ref(self);
	reply->command = g_strdup(command);
	return reply;
}

/**
 * stdiolink_driver_reply_ref:
 * @reply: a reply
 *
 * Returns: (transfer full): @reply
 */
StdiolinkDriverReply *
stdiolink_driver_reply_ref(StdiolinkDriverReply *reply)
{
	g_ref_count_inc(&reply->ref);
	return reply;
}

/**
 * stdiolink_driver_reply_unref:
 * @reply: (nullable): a reply
 */
void
stdiolink_driver_reply_unref(StdiolinkDriverReply *reply)
{
	if (reply == NULL || !g_ref_count_dec(&reply->ref))
		return;

	/* a handler that forgot to answer must not leave the host waiting forever */
	if (!reply->finished) {
		g_warning("command %s ended without a reply", reply->command);
		stdiolink_driver_reply_error(reply, 1, "command ended without a reply");
	}
	g_object_unref(reply->helper);
	g_free(reply->command);
	g_free(reply);
}

G_DEFINE_BOXED_TYPE(StdiolinkDriverReply, stdiolink_driver_reply, stdiolink_driver_reply_ref,
		    stdiolink_driver_reply_unref)

/**
 * stdiolink_driver_reply_get_command:
 * @reply: a reply
 *
 * Returns: the name of the command being answered
 */
const char *
stdiolink_driver_reply_get_command(StdiolinkDriverReply *reply)
{
	return reply->command;
}

/**
 * stdiolink_driver_reply_is_finished:
 * @reply: a reply
 *
 * Returns: %TRUE once done or error was sent
 */
gboolean
stdiolink_driver_reply_is_finished(StdiolinkDriverReply *reply)
{
	return reply->finished;
}

/**
 * stdiolink_driver_reply_event:
 * @reply: an unfinished reply
 * @name: (nullable): tags the event: data becomes `{"event": @name, "data": @data}`
 *   (protocol.md 3.1); %NULL sends @data as it is
 * @data: (nullable): the payload, copied; %NULL is JSON null
 *
 * Sends one `event` line with code 0.
 */
void
stdiolink_driver_reply_event(StdiolinkDriverReply *reply, const char *name, JsonNode *data)
{
	g_autoptr(JsonNode) tagged = NULL;

	g_return_if_fail(!reply->finished);

	if (name != NULL) {
		JsonObject *object = json_object_new();
		JsonNode *payload = data != NULL ? json_node_copy(data)
						 : json_node_new(JSON_NODE_NULL);

		json_object_set_string_member(object, "event", name);
		json_object_set_member(object, "data", payload);
		tagged = stdiolink_json_node_new_object(object);
		data = tagged;
	}
	write_response(STDIOLINK_JSONL_EVENT, 0, data);
}

static void
reply_finish(StdiolinkDriverReply *reply, StdiolinkJsonlStatus status, gint64 code,
	     JsonNode *data)
{
	reply->finished = TRUE;
	write_response(status, code, data);
	request_finished(reply->helper, status, code);
}

/**
 * stdiolink_driver_reply_done:
 * @reply: an unfinished reply
 * @data: (nullable): the result, copied; %NULL is JSON null
 *
 * Ends the request with `done`, code 0.
 */
void
stdiolink_driver_reply_done(StdiolinkDriverReply *reply, JsonNode *data)
{
	g_return_if_fail(!reply->finished);

	reply_finish(reply, STDIOLINK_JSONL_DONE, 0, data);
}

/**
 * stdiolink_driver_reply_error_data:
 * @reply: an unfinished reply
 * @code: the error code (a driver's own codes: anything but 0 and 400/404/501/1000)
 * @data: (nullable): the payload, copied
 *
 * Ends the request with `error`.
 */
void
stdiolink_driver_reply_error_data(StdiolinkDriverReply *reply, gint64 code, JsonNode *data)
{
	g_return_if_fail(!reply->finished);

	reply_finish(reply, STDIOLINK_JSONL_ERROR, code, data);
}

/**
 * stdiolink_driver_reply_error:
 * @reply: an unfinished reply
 * @code: the error code
 * @message: the text
 *
 * Ends the request with `error` and data `{"message": @message}`.
 */
void
stdiolink_driver_reply_error(StdiolinkDriverReply *reply, gint64 code, const char *message)
{
	JsonObject *object = json_object_new();
	g_autoptr(JsonNode) data = NULL;

	json_object_set_string_member(object, "message", message);
	data = stdiolink_json_node_new_object(object);
	stdiolink_driver_reply_error_data(reply, code, data);
}

/* ---- dispatch -------------------------------------------------------------------------- */

static void
answer_meta(StdiolinkDriverReply *reply, const char *cmd)
{
	StdiolinkDriverHelper *self = reply->helper;
	g_autoptr(JsonNode) meta = NULL;
	g_autoptr(JsonNode) data = NULL;
	g_autofree char *message = NULL;

	if (g_str_equal(cmd, "meta.describe")) {
		meta = stdiolink_driver_helper_get_meta(self);
		stdiolink_driver_reply_done(reply, meta);
		return;
	}
	message = g_strdup_printf("Unknown meta command: %s", cmd);
	data = named_error("CommandNotFound", message);
	stdiolink_driver_reply_error_data(reply, 404, data);
}

/* protocol.md 3.3: defaults filled, then validated; the handler gets the filled data */
static void
run_command(StdiolinkDriverReply *reply, Command *command, JsonNode *data)
{
	g_autoptr(StdiolinkValidation) result = NULL;
	g_autofree char *message = NULL;
	g_autoptr(JsonNode) error_data = NULL;

	result = stdiolink_fields_validate_params(command->params, data);
	if (!result->valid) {
		message = stdiolink_validation_to_string(result);
		error_data = named_error("ValidationFailed", message);
		stdiolink_driver_reply_error_data(reply, 400, error_data);
		return;
	}
	command->func(reply, result->filled, command->user_data);
}

static void
dispatch_request(StdiolinkDriverHelper *self, const char *cmd, JsonNode *data)
{
	g_autoptr(StdiolinkDriverReply) reply = reply_new(self, cmd);
	Command *command;

	self->busy = TRUE;
	if (g_str_has_prefix(cmd, "meta.")) {
		answer_meta(reply, cmd);
		return;
	}
	command = find_command(self, cmd);
	if (command == NULL) {
		g_autofree char *message = g_strdup_printf("Unknown command: %s", cmd);
		g_autoptr(JsonNode) error_data = named_error("CommandNotFound", message);

		stdiolink_driver_reply_error_data(reply, 404, error_data);
		return;
	}
	run_command(reply, command, data);
}

static void
answer_invalid_line(StdiolinkDriverHelper *self, const char *message, const char *raw)
{
	JsonObject *object = json_object_new();
	g_autoptr(JsonNode) data = NULL;

	json_object_set_string_member(object, "message", message);
	if (raw != NULL)
		json_object_set_string_member(object, "raw", raw);
	data = stdiolink_json_node_new_object(object);
	self->busy = TRUE;
	write_response(STDIOLINK_JSONL_ERROR, STDIOLINK_JSONL_CODE_INVALID_RESPONSE, data);
	request_finished(self, STDIOLINK_JSONL_ERROR, STDIOLINK_JSONL_CODE_INVALID_RESPONSE);
}

static void
handle_line(StdiolinkDriverHelper *self, GBytes *bytes)
{
	gsize length = 0;
	const char *line = g_bytes_get_data(bytes, &length);
	g_autoptr(StdiolinkJsonlRequest) request = NULL;
	g_autofree char *raw = NULL;

	if (length == 0) {
		answer_invalid_line(self, "request line too long", NULL);
		return;
	}
	request = stdiolink_jsonl_request_parse(line, (gssize)length, NULL);
	if (request == NULL) {
		/* `raw` must be a valid JSON string: invalid UTF-8 is replaced */
		raw = g_utf8_make_valid(line, (gssize)length);
		answer_invalid_line(self, "invalid request format", raw);
		return;
	}
	dispatch_request(self, request->cmd, request->data);
}

/* ---- the stdio loop -------------------------------------------------------------------- */

static void read_more(StdiolinkDriverHelper *self);

static gboolean
pump_cb(gpointer user_data)
{
	StdiolinkDriverHelper *self = user_data;
	GBytes *bytes;

	self->pump_id = 0;
	if (self->busy)
		return G_SOURCE_REMOVE;

	/* oneshot: the first request is all there is */
	if (self->took_one && !self->keepalive) {
		g_main_loop_quit(self->loop);
		return G_SOURCE_REMOVE;
	}
	bytes = g_queue_pop_head(&self->lines);
	if (bytes != NULL) {
		self->took_one = TRUE;
		handle_line(self, bytes);
		g_bytes_unref(bytes);
		return G_SOURCE_REMOVE;
	}
	if (self->eof)
		g_main_loop_quit(self->loop);
	return G_SOURCE_REMOVE;
}

/* runs from idle, so that a handler that answers at once does not recurse */
static void
schedule_pump(StdiolinkDriverHelper *self)
{
	if (self->pump_id == 0 && self->loop != NULL)
		self->pump_id = g_idle_add(pump_cb, self);
}

static void
request_finished(StdiolinkDriverHelper *self, StdiolinkJsonlStatus status, gint64 code)
{
	self->busy = FALSE;
	self->last_status = status;
	self->last_code = code;
	if (self->console) {
		g_main_loop_quit(self->loop);
		return;
	}
	schedule_pump(self);
}

static void
queue_complete_lines(StdiolinkDriverHelper *self)
{
	gsize length = 0;
	char *line;

	while ((line = stdiolink_jsonl_reader_next_line(self->reader, &length)) != NULL)
		g_queue_push_tail(&self->lines, g_bytes_new_take(line, length));
}

static void
read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	StdiolinkDriverHelper *self = user_data;
	g_autoptr(GError) error = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);

	self->reading = FALSE;
	if (n > 0) {
		if (!stdiolink_jsonl_reader_feed(self->reader, self->chunk, (gsize)n, NULL))
			g_queue_push_tail(&self->lines, g_bytes_new(NULL, 0));
		queue_complete_lines(self);
		read_more(self);
	} else {
		gsize length = 0;
		char *rest = stdiolink_jsonl_reader_finish(self->reader, &length);

		if (error != NULL)
			g_warning("stdin: %s", error->message);
		if (rest != NULL)
			g_queue_push_tail(&self->lines, g_bytes_new_take(rest, length));
		self->eof = TRUE;
	}
	schedule_pump(self);
}

static void
read_more(StdiolinkDriverHelper *self)
{
	/* oneshot stops reading once its line is in */
	if (self->reading || self->eof || (!self->keepalive && !g_queue_is_empty(&self->lines)))
		return;
	self->reading = TRUE;
	g_input_stream_read_async(self->in, self->chunk, READ_CHUNK, G_PRIORITY_DEFAULT, NULL,
				  read_cb, self);
}

static int
run_stdio(StdiolinkDriverHelper *self)
{
	self->reader = stdiolink_jsonl_reader_new(0);
	self->in = g_unix_input_stream_new(STDIN_FILENO, FALSE);
	self->chunk = g_malloc(READ_CHUNK);
	read_more(self);
	g_main_loop_run(self->loop);

	g_clear_handle_id(&self->pump_id, g_source_remove);
	g_queue_clear_full(&self->lines, (GDestroyNotify)g_bytes_unref);
	g_clear_object(&self->in);
	g_clear_pointer(&self->reader, stdiolink_jsonl_reader_free);
	g_clear_pointer(&self->chunk, g_free);
	return 0;
}

/* ---- console mode ---------------------------------------------------------------------- */

/* protocol.md 6: the done code, or the error code with 0 -> 1 and > 255 -> 3 */
static int
console_exit_code(StdiolinkJsonlStatus status, gint64 code)
{
	if (status == STDIOLINK_JSONL_ERROR && code == 0)
		return 1;
	if (code < 0 || code > 255)
		return 3;
	return (int)code;
}

static int
run_console(StdiolinkDriverHelper *self, const char *cmd, JsonNode *data)
{
	self->console = TRUE;
	dispatch_request(self, cmd, data);
	if (self->busy)
		g_main_loop_run(self->loop);
	return console_exit_code(self->last_status, self->last_code);
}

/* ---- command line ---------------------------------------------------------------------- */

typedef struct {
	gboolean help;
	gboolean version;
	gboolean export_meta;
	char *export_meta_path;
	char *export_doc;
	gboolean keepalive;
	char *mode;
	char *cmd;
	JsonNode *data; /* object built from data arguments, NULL if none */
} Options;

static void
options_clear(Options *options)
{
	g_free(options->export_meta_path);
	g_free(options->export_doc);
	g_free(options->mode);
	g_free(options->cmd);
	g_clear_pointer(&options->data, json_node_unref);
}

typedef struct {
	char *key;  /* NULL for an index */
	guint index;
} PathPart;

static void
path_part_clear(gpointer data)
{
	g_free(((PathPart *)data)->key);
}

static gboolean
parse_index(const char **p, GArray *parts)
{
	PathPart part = {NULL, 0};
	char *end = NULL;
	guint64 value;

	if (!g_ascii_isdigit(**p))
		return FALSE;
	value = g_ascii_strtoull(*p, &end, 10);
	if (*end != ']' || value > 100000)
		return FALSE;
	part.index = (guint)value;
	g_array_append_val(parts, part);
	*p = end + 1;
	return TRUE;
}

static gboolean
parse_quoted_key(const char **p, GArray *parts)
{
	const char *end = strstr(*p + 1, "\"]");
	PathPart part = {NULL, 0};

	if (end == NULL)
		return FALSE;
	part.key = g_strndup(*p + 1, (gsize)(end - *p - 1));
	g_array_append_val(parts, part);
	*p = end + 2;
	return TRUE;
}

static gboolean
parse_plain_key(const char **p, GArray *parts)
{
	gsize n = strcspn(*p, ".[");
	PathPart part = {NULL, 0};

	if (n == 0)
		return FALSE;
	part.key = g_strndup(*p, n);
	g_array_append_val(parts, part);
	*p += n;
	return TRUE;
}

/* `a.b[0]["odd key"].c` -> a, b, 0, odd key, c */
static GArray *
parse_path(const char *path)
{
	g_autoptr(GArray) parts = g_array_new(FALSE, FALSE, sizeof(PathPart));
	const char *p = path;
	gboolean ok = parse_plain_key(&p, parts);

	g_array_set_clear_func(parts, path_part_clear);
	while (ok && *p != '\0') {
		if (p[0] == '.')
			p++, ok = parse_plain_key(&p, parts);
		else if (p[0] == '[' && p[1] == '"')
			p++, ok = parse_quoted_key(&p, parts);
		else if (p[0] == '[')
			p++, ok = parse_index(&p, parts);
		else
			ok = FALSE;
	}
	return ok ? g_steal_pointer(&parts) : NULL;
}

static JsonNode *set_path_value(JsonNode *current, PathPart *parts, guint n, JsonNode *value);

/* a fresh mutable copy of @current's members, or an empty object */
static JsonNode *
set_in_object(JsonNode *current, PathPart *parts, guint n, JsonNode *value)
{
	JsonObject *object = json_object_new();
	JsonNode *child = NULL;

	if (current != NULL && JSON_NODE_HOLDS_OBJECT(current)) {
		JsonObject *old = json_node_get_object(current);
		g_autoptr(GList) names = json_object_get_members(old);

		for (GList *l = names; l != NULL; l = l->next) {
			JsonNode *member = json_object_get_member(old, l->data);

			json_object_set_member(object, l->data, json_node_copy(member));
		}
	}
	child = json_object_get_member(object, parts[0].key);
	json_object_set_member(object, parts[0].key,
			       set_path_value(child, parts + 1, n - 1, value));
	return stdiolink_json_node_new_object(object);
}

static JsonNode *
set_in_array(JsonNode *current, PathPart *parts, guint n, JsonNode *value)
{
	JsonArray *old = current != NULL && JSON_NODE_HOLDS_ARRAY(current)
			     ? json_node_get_array(current)
			     : NULL;
	guint old_length = old != NULL ? json_array_get_length(old) : 0;
	guint length = MAX(old_length, parts[0].index + 1);
	JsonArray *array = json_array_new();
	JsonNode *node;

	for (guint i = 0; i < length; i++) {
		JsonNode *element = i < old_length ? json_array_get_element(old, i) : NULL;

		if (i == parts[0].index)
			json_array_add_element(array, set_path_value(element, parts + 1, n - 1,
								      value));
		else if (element != NULL)
			json_array_add_element(array, json_node_copy(element));
		else
			json_array_add_null_element(array);
	}
	node = json_node_new(JSON_NODE_ARRAY);
	json_node_take_array(node, array);
	return node;
}

/* returns the new value of the slot that held @current (borrowed) */
static JsonNode *
set_path_value(JsonNode *current, PathPart *parts, guint n, JsonNode *value)
{
	if (n == 0)
		return json_node_copy(value);
	if (parts[0].key != NULL)
		return set_in_object(current, parts, n, value);
	return set_in_array(current, parts, n, value);
}

/* a value is a JSON literal if it parses as one, else the text itself */
static JsonNode *
parse_arg_value(const char *text)
{
	JsonNode *node = stdiolink_json_parse(text, -1, NULL);

	if (node == NULL) {
		node = json_node_new(JSON_NODE_VALUE);
		json_node_set_string(node, text);
	}
	return node;
}

static gboolean
add_data_arg(Options *options, const char *path, const char *text, GError **error)
{
	g_autoptr(GArray) parts = parse_path(path);
	g_autoptr(JsonNode) value = NULL;
	JsonNode *data;

	if (parts == NULL) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "Invalid argument: --%s=%s", path, text);
		return FALSE;
	}
	value = parse_arg_value(text);
	data = set_path_value(options->data, (PathPart *)(void *)parts->data, parts->len, value);
	g_clear_pointer(&options->data, json_node_unref);
	options->data = data;
	return TRUE;
}

static gboolean
usage_error(GError **error, const char *prefix, const char *arg)
{
	g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST, "%s%s", prefix, arg);
	return FALSE;
}

static void
replace_string(char **slot, const char *value)
{
	g_free(*slot);
	*slot = g_strdup(value);
}

/* `--key=value` or `--key` (value %NULL) */
static gboolean
parse_long(Options *options, const char *key, const char *value, GError **error)
{
	if (g_str_equal(key, "help"))
		options->help = TRUE;
	else if (g_str_equal(key, "version"))
		options->version = TRUE;
	else if (g_str_equal(key, "export-meta"))
		options->export_meta = TRUE, replace_string(&options->export_meta_path, value);
	else if (value == NULL)
		return usage_error(error, "Missing value for argument: --", key);
	else if (g_str_equal(key, "export-doc"))
		replace_string(&options->export_doc, value);
	else if (g_str_equal(key, "profile"))
		options->keepalive = g_str_equal(value, "keepalive");
	else if (g_str_equal(key, "mode"))
		replace_string(&options->mode, value);
	else if (g_str_equal(key, "cmd"))
		replace_string(&options->cmd, value);
	else if (g_str_equal(key, "guard"))
		return TRUE;
	else if (g_str_has_prefix(key, "arg-"))
		return add_data_arg(options, key + strlen("arg-"), value, error);
	else
		return add_data_arg(options, key, value, error);
	return TRUE;
}

/* -h, -v, -E; -D, -m, -c take the next argument */
static gboolean
parse_short(Options *options, char **argv, int argc, int *i, GError **error)
{
	const char *arg = argv[*i];
	const char *value = *i + 1 < argc ? argv[*i + 1] : NULL;

	if (g_str_equal(arg, "-h"))
		options->help = TRUE;
	else if (g_str_equal(arg, "-v"))
		options->version = TRUE;
	else if (g_str_equal(arg, "-E"))
		options->export_meta = TRUE;
	else if (!g_str_equal(arg, "-D") && !g_str_equal(arg, "-m") && !g_str_equal(arg, "-c"))
		return usage_error(error, "Unknown short argument: ", arg);
	else if (value == NULL)
		return usage_error(error, "Missing value for argument: ", arg);
	else if (g_str_equal(arg, "-D"))
		replace_string(&options->export_doc, value), (*i)++;
	else if (g_str_equal(arg, "-m"))
		replace_string(&options->mode, value), (*i)++;
	else
		replace_string(&options->cmd, value), (*i)++;
	return TRUE;
}

static gboolean
parse_options(Options *options, int argc, char **argv, GError **error)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		g_autofree char *key = NULL;
		const char *eq;

		if (arg[0] != '-')
			return usage_error(error, "Invalid argument: ", arg);
		if (arg[1] != '-') {
			if (!parse_short(options, argv, argc, &i, error))
				return FALSE;
			continue;
		}
		eq = strchr(arg + 2, '=');
		key = eq != NULL ? g_strndup(arg + 2, (gsize)(eq - arg - 2)) : g_strdup(arg + 2);
		if (!parse_long(options, key, eq != NULL ? eq + 1 : NULL, error))
			return FALSE;
	}
	return TRUE;
}

static void
print_help(StdiolinkDriverHelper *self, const char *program)
{
	g_autoptr(GString) text = g_string_new(NULL);

	g_string_append_printf(text, "%s %s\n", self->name, self->version);
	if (self->description != NULL)
		g_string_append_printf(text, "%s\n", self->description);
	g_string_append_printf(text,
			       "\nUsage: %s [options]\n"
			       "  (no --cmd)                  read JSONL requests on stdin\n"
			       "  --cmd=NAME [--KEY=VALUE...] run one command (console mode)\n"
			       "  --profile=oneshot|keepalive one request, or until stdin closes\n"
			       "  --mode=stdio|console\n"
			       "  --export-meta[=PATH]        write the driver metadata\n"
			       "  --export-doc=FORMAT[=PATH]  markdown, openapi, html or ts\n"
			       "  --help, --version\n",
			       program);
	if (self->commands->len > 0)
		g_string_append(text, "\nCommands:\n");
	for (guint i = 0; i < self->commands->len; i++) {
		Command *command = g_ptr_array_index(self->commands, i);
		const char *description = stdiolink_json_object_get_string(command->meta,
									   "description");

		g_string_append_printf(text, "  %-20s %s\n", command->name,
				       description != NULL ? description : "");
	}
	fputs(text->str, stderr);
}

/* `<text>` to @path, created or truncated; stdout without a path */
static int
write_output(const char *path, const char *text)
{
	g_autoptr(GError) error = NULL;

	if (path == NULL || *path == '\0') {
		write_line(text);
		return 0;
	}
	if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_NONE, 0644, &error)) {
		fprintf(stderr, "Failed to write file: %s\n", path);
		return 1;
	}
	return 0;
}

static int
export_meta(StdiolinkDriverHelper *self, const char *path)
{
	g_autoptr(JsonNode) meta = NULL;
	g_autofree char *text = NULL;

	if (*self->id == '\0') {
		fputs("No metadata available\n", stderr);
		return 1;
	}
	meta = stdiolink_driver_helper_get_meta(self);
	text = stdiolink_json_to_string(meta, STDIOLINK_JSON_PRETTY);
	return write_output(path, text);
}

static int
export_doc(StdiolinkDriverHelper *self, const char *spec, const char *program)
{
	g_autoptr(JsonNode) meta = stdiolink_driver_helper_get_meta(self);
	g_auto(GStrv) parts = g_strsplit(spec, "=", 2);
	const char *format = parts[0] != NULL ? parts[0] : "";
	g_autofree char *text = NULL;

	text = stdiolink_driver_docs_render(json_node_get_object(meta), format, program, NULL);
	if (text == NULL) {
		fprintf(stderr, "Unknown documentation format: %s\n", format);
		return 1;
	}
	return write_output(parts[0] != NULL ? parts[1] : NULL, text);
}

static const char *
level_prefix(GLogLevelFlags level)
{
	if (level & G_LOG_LEVEL_ERROR)
		return "[FATAL] ";
	if (level & G_LOG_LEVEL_CRITICAL)
		return "[ERROR] ";
	if (level & G_LOG_LEVEL_WARNING)
		return "[WARN] ";
	if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
		return "[INFO] ";
	return "[DEBUG] ";
}

/* each log record as one prefixed line on stderr (protocol.md 1) */
static GLogWriterOutput
stderr_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer unused)
{
	const char *message = "";
	const char *domain = NULL;

	for (gsize i = 0; i < n_fields; i++) {
		if (g_str_equal(fields[i].key, "MESSAGE"))
			message = fields[i].value;
		else if (g_str_equal(fields[i].key, "GLIB_DOMAIN"))
			domain = fields[i].value;
	}
	if (g_log_writer_default_would_drop(level, domain))
		return G_LOG_WRITER_HANDLED;
	fprintf(stderr, "%s%s\n", level_prefix(level), message);
	return G_LOG_WRITER_HANDLED;
}

/* GLib would print info and debug to stdout, which carries protocol lines only */
static void
route_logging_to_stderr(void)
{
	static gsize once = 0;

	if (g_once_init_enter(&once)) {
		g_log_set_writer_func(stderr_writer, NULL, NULL);
		g_once_init_leave(&once, 1);
	}
}

static int
run_with_options(StdiolinkDriverHelper *self, Options *options, const char *program)
{
	gboolean console;

	if (options->help) {
		print_help(self, program);
		return 0;
	}
	if (options->version) {
		fprintf(stderr, "%s %s\n", self->name, self->version);
		return 0;
	}
	if (options->export_meta)
		return export_meta(self, options->export_meta_path);
	if (options->export_doc != NULL)
		return export_doc(self, options->export_doc, program);

	console = options->mode != NULL ? g_str_equal(options->mode, "console")
					: options->cmd != NULL;
	if (console && options->cmd == NULL) {
		fputs("Console mode requires --cmd\n", stderr);
		return 1;
	}
	if (options->data != NULL && options->cmd == NULL) {
		fputs("Data arguments require --cmd\n", stderr);
		return 1;
	}
	self->keepalive = options->keepalive;
	if (console)
		return run_console(self, options->cmd, options->data);
	return run_stdio(self);
}

/**
 * stdiolink_driver_helper_run:
 * @self: the helper, with its commands added
 * @argc: from main()
 * @argv: from main()
 *
 * Runs the driver as protocol.md describes: parses the command line (section 6), then
 * exports metadata or documentation, runs one command in console mode, or serves JSONL
 * requests on stdin with the chosen profile (section 5). Logging is routed to stderr.
 * Blocks in a main loop of the default context until done.
 *
 * Returns: the process exit code
 */
int
stdiolink_driver_helper_run(StdiolinkDriverHelper *self, int argc, char **argv)
{
	Options options = {0};
	g_autoptr(GError) error = NULL;
	const char *program = argc > 0 ? argv[0] : "driver";
	int code;

	g_return_val_if_fail(STDIOLINK_IS_DRIVER_HELPER(self), 1);

	route_logging_to_stderr();
	signal(SIGPIPE, SIG_IGN);
	if (!parse_options(&options, argc, argv, &error)) {
		fprintf(stderr, "%s\n", error->message);
		options_clear(&options);
		return 1;
	}

	/* no arguments on a terminal: someone wants to know what this is */
	if (argc <= 1 && isatty(STDIN_FILENO))
		options.help = TRUE;

	self->loop = g_main_loop_new(NULL, FALSE);
	code = run_with_options(self, &options, program);
	g_clear_pointer(&self->loop, g_main_loop_unref);
	options_clear(&options);
	return code;
}
