#include "config.h"

#include <math.h>

#include <string.h>

#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-jsonl.h"

/*
 * The JSONL wire format of drivers (protocol.md): one compact JSON document per line.
 * Encoding goes through stdiolink_json_to_string(), so a line read back and written again
 * is byte for byte the same; decoding goes through stdiolink_json_parse(), which refuses
 * NUL bytes, invalid UTF-8, deep nesting and trailing content.
 */

static const char *const status_names[] = {"event", "done", "error"};

/**
 * stdiolink_jsonl_status_to_string:
 * @status: a status
 *
 * Returns: `event`, `done` or `error`
 */
const char *
stdiolink_jsonl_status_to_string(StdiolinkJsonlStatus status)
{
	g_return_val_if_fail(status <= STDIOLINK_JSONL_ERROR, "error");

	return status_names[status];
}

/**
 * stdiolink_jsonl_status_from_string:
 * @text: (nullable): a `status` value
 * @status: (out): the status
 *
 * Returns: %TRUE if @text is one of the three statuses
 */
gboolean
stdiolink_jsonl_status_from_string(const char *text, StdiolinkJsonlStatus *status)
{
	for (guint i = 0; i < G_N_ELEMENTS(status_names); i++) {
		if (g_strcmp0(text, status_names[i]) == 0) {
			*status = (StdiolinkJsonlStatus)i;
			return TRUE;
		}
	}
	return FALSE;
}

static gboolean
set_bad_line(GError **error, const char *message)
{
	g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST, message);
	return FALSE;
}

/* the line as a JSON object; a JSON failure keeps the parser's message */
static JsonObject *
parse_object_line(const char *line, gssize length, const char *shape_error, GError **error)
{
	g_autoptr(JsonNode) root = stdiolink_json_parse(line, length, error);

	if (root == NULL)
		return NULL;
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		set_bad_line(error, shape_error);
		return NULL;
	}
	return json_object_ref(json_node_get_object(root));
}

static char *
object_to_line(JsonObject *object)
{
	g_autofree char *text = stdiolink_json_object_to_string(object, STDIOLINK_JSON_COMPACT);

	return g_strconcat(text, "\n", NULL);
}

/* ---- requests -------------------------------------------------------------------------- */

/**
 * stdiolink_jsonl_request_new:
 * @cmd: the command name
 * @data: (nullable): the payload, copied; %NULL leaves `data` out of the line
 *
 * Returns: (transfer full): a request
 */
StdiolinkJsonlRequest *
stdiolink_jsonl_request_new(const char *cmd, JsonNode *data)
{
	StdiolinkJsonlRequest *request = g_new0(StdiolinkJsonlRequest, 1);

	g_return_val_if_fail(cmd != NULL, request);

	request->cmd = g_strdup(cmd);
	request->data = data != NULL ? json_node_copy(data) : NULL;
	return request;
}

/**
 * stdiolink_jsonl_request_copy:
 * @request: a request
 *
 * Returns: (transfer full): a deep copy
 */
StdiolinkJsonlRequest *
stdiolink_jsonl_request_copy(const StdiolinkJsonlRequest *request)
{
	return stdiolink_jsonl_request_new(request->cmd, request->data);
}

/**
 * stdiolink_jsonl_request_free:
 * @request: (nullable): a request
 */
void
stdiolink_jsonl_request_free(StdiolinkJsonlRequest *request)
{
	if (request == NULL)
		return;
	g_free(request->cmd);
	g_clear_pointer(&request->data, json_node_unref);
	g_free(request);
}

G_DEFINE_BOXED_TYPE(StdiolinkJsonlRequest, stdiolink_jsonl_request,
		    stdiolink_jsonl_request_copy, stdiolink_jsonl_request_free)

/**
 * stdiolink_jsonl_request_parse:
 * @line: one line, without its newline
 * @length: its length, or -1 if nul-terminated
 * @error: return location for a #GError
 *
 * A request is a JSON object with a string `cmd` and an optional `data` (protocol.md 2);
 * other members are ignored. Anything else fails with %STDIOLINK_ERROR_BAD_REQUEST:
 * `invalid request format`, or the JSON parser's message.
 *
 * Returns: (transfer full): the request, or %NULL with @error set
 */
StdiolinkJsonlRequest *
stdiolink_jsonl_request_parse(const char *line, gssize length, GError **error)
{
	g_autoptr(JsonObject) object = NULL;
	JsonNode *cmd;

	object = parse_object_line(line, length, "invalid request format", error);
	if (object == NULL)
		return NULL;
	cmd = json_object_get_member(object, "cmd");
	if (!stdiolink_json_node_is_string(cmd)) {
		set_bad_line(error, "invalid request format");
		return NULL;
	}
	return stdiolink_jsonl_request_new(json_node_get_string(cmd),
					   json_object_get_member(object, "data"));
}

/**
 * stdiolink_jsonl_format_request:
 * @cmd: the command name
 * @data: (nullable): the payload; %NULL leaves `data` out
 *
 * Returns: (transfer full): `{"cmd":...,"data":...}` and a newline
 */
char *
stdiolink_jsonl_format_request(const char *cmd, JsonNode *data)
{
	g_autoptr(JsonObject) object = json_object_new();

	json_object_set_string_member(object, "cmd", cmd);
	if (data != NULL)
		json_object_set_member(object, "data", json_node_copy(data));
	return object_to_line(object);
}

/**
 * stdiolink_jsonl_request_to_line:
 * @request: a request
 *
 * Returns: (transfer full): the request as one compact line, newline included
 */
char *
stdiolink_jsonl_request_to_line(const StdiolinkJsonlRequest *request)
{
	return stdiolink_jsonl_format_request(request->cmd, request->data);
}

/* ---- responses ------------------------------------------------------------------------- */

/**
 * stdiolink_jsonl_response_new:
 * @status: the status
 * @code: the code
 * @data: (nullable): the payload, copied; %NULL stands for JSON null
 *
 * Returns: (transfer full): a response
 */
StdiolinkJsonlResponse *
stdiolink_jsonl_response_new(StdiolinkJsonlStatus status, gint64 code, JsonNode *data)
{
	StdiolinkJsonlResponse *response = g_new0(StdiolinkJsonlResponse, 1);

	response->status = status;
	response->code = code;
	response->data = data != NULL ? json_node_copy(data) : json_node_new(JSON_NODE_NULL);
	return response;
}

/**
 * stdiolink_jsonl_response_new_error:
 * @code: the code
 * @message: the text
 *
 * Returns: (transfer full): an `error` response with data `{"message": @message}`
 */
StdiolinkJsonlResponse *
stdiolink_jsonl_response_new_error(gint64 code, const char *message)
{
	JsonObject *data = json_object_new();
	g_autoptr(JsonNode) node = NULL;

	json_object_set_string_member(data, "message", message);
	node = stdiolink_json_node_new_object(data);
	return stdiolink_jsonl_response_new(STDIOLINK_JSONL_ERROR, code, node);
}

/**
 * stdiolink_jsonl_response_copy:
 * @response: a response
 *
 * Returns: (transfer full): a deep copy
 */
StdiolinkJsonlResponse *
stdiolink_jsonl_response_copy(const StdiolinkJsonlResponse *response)
{
	return stdiolink_jsonl_response_new(response->status, response->code, response->data);
}

/**
 * stdiolink_jsonl_response_free:
 * @response: (nullable): a response
 */
void
stdiolink_jsonl_response_free(StdiolinkJsonlResponse *response)
{
	if (response == NULL)
		return;
	g_clear_pointer(&response->data, json_node_unref);
	g_free(response);
}

G_DEFINE_BOXED_TYPE(StdiolinkJsonlResponse, stdiolink_jsonl_response,
		    stdiolink_jsonl_response_copy, stdiolink_jsonl_response_free)

/**
 * stdiolink_jsonl_response_parse:
 * @line: one line, without its newline
 * @length: its length, or -1 if nul-terminated
 * @error: return location for a #GError
 *
 * A host accepts a line as a response only if it is a JSON object with a `status` of
 * `event`, `done` or `error` and a numeric `code` (protocol.md 3); a missing `data` reads
 * as null. Anything else fails with %STDIOLINK_ERROR_BAD_REQUEST: `invalid response`, or
 * the JSON parser's message.
 *
 * Returns: (transfer full): the response, or %NULL with @error set
 */
StdiolinkJsonlResponse *
stdiolink_jsonl_response_parse(const char *line, gssize length, GError **error)
{
	g_autoptr(JsonObject) object = NULL;
	StdiolinkJsonlStatus status;
	JsonNode *status_node;
	JsonNode *code;

	object = parse_object_line(line, length, "invalid response", error);
	if (object == NULL)
		return NULL;
	status_node = json_object_get_member(object, "status");
	code = json_object_get_member(object, "code");
	/* the code is a driver's word: an integer within 64 bits, or the line is invalid */
	if (!stdiolink_json_node_is_string(status_node) ||
	    !stdiolink_jsonl_status_from_string(json_node_get_string(status_node), &status) ||
	    !stdiolink_json_node_is_number(code) ||
	    !(fabs(stdiolink_json_node_get_number(code)) < 0x1p63) ||
	    stdiolink_json_node_get_number(code) != trunc(stdiolink_json_node_get_number(code))) {
		set_bad_line(error, "invalid response");
		return NULL;
	}
	return stdiolink_jsonl_response_new(status, (gint64)stdiolink_json_node_get_number(code),
					    json_object_get_member(object, "data"));
}

/**
 * stdiolink_jsonl_response_to_line:
 * @response: a response
 *
 * Returns: (transfer full): the response as one compact line, newline included
 */
char *
stdiolink_jsonl_response_to_line(const StdiolinkJsonlResponse *response)
{
	g_autoptr(JsonObject) object = json_object_new();

	json_object_set_string_member(object, "status",
				      stdiolink_jsonl_status_to_string(response->status));
	json_object_set_int_member(object, "code", response->code);
	json_object_set_member(object, "data", json_node_copy(response->data));
	return object_to_line(object);
}

/**
 * stdiolink_jsonl_response_is_terminal:
 * @response: a response
 *
 * Returns: %TRUE for `done` and `error`, which end a request
 */
gboolean
stdiolink_jsonl_response_is_terminal(const StdiolinkJsonlResponse *response)
{
	return response->status != STDIOLINK_JSONL_EVENT;
}

/* ---- line reader ----------------------------------------------------------------------- */

struct _StdiolinkJsonlReader {
	GByteArray *buffer;
	gsize start;	   /* first byte not handed out yet */
	gsize scanned;	   /* bytes from start known to hold no newline */
	gsize max_pending;
};

/**
 * stdiolink_jsonl_reader_new: (skip)
 * @max_pending: the most bytes held at once, 0 for %STDIOLINK_JSONL_MAX_LINE
 *
 * Returns: (transfer full): a reader with nothing buffered
 */
StdiolinkJsonlReader *
stdiolink_jsonl_reader_new(gsize max_pending)
{
	StdiolinkJsonlReader *reader = g_new0(StdiolinkJsonlReader, 1);

	reader->buffer = g_byte_array_new();
	reader->max_pending = max_pending > 0 ? max_pending : STDIOLINK_JSONL_MAX_LINE;
	return reader;
}

/**
 * stdiolink_jsonl_reader_free:
 * @reader: (nullable): a reader
 */
void
stdiolink_jsonl_reader_free(StdiolinkJsonlReader *reader)
{
	if (reader == NULL)
		return;
	g_byte_array_unref(reader->buffer);
	g_free(reader);
}

static void
reader_clear(StdiolinkJsonlReader *reader)
{
	g_byte_array_set_size(reader->buffer, 0);
	reader->start = 0;
	reader->scanned = 0;
}

/**
 * stdiolink_jsonl_reader_get_pending:
 * @reader: a reader
 *
 * Returns: how many bytes are buffered and not handed out yet
 */
gsize
stdiolink_jsonl_reader_get_pending(StdiolinkJsonlReader *reader)
{
	return reader->buffer->len - reader->start;
}

/**
 * stdiolink_jsonl_reader_feed:
 * @reader: a reader
 * @data: bytes as read, any split: partial lines wait for the rest
 * @length: how many
 * @error: return location for a #GError
 *
 * Appends @data. When the reader then holds more than its limit (checked before lines are
 * split off, as the earlier DriverLab did), everything buffered is dropped and
 * %STDIOLINK_ERROR_PAYLOAD_TOO_LARGE `line exceeds the limit of <n> bytes` is reported;
 * the reader can be fed again afterwards.
 *
 * Returns: %TRUE unless the limit was exceeded
 */
gboolean
stdiolink_jsonl_reader_feed(StdiolinkJsonlReader *reader,
			    const void *data,
			    gsize length,
			    GError **error)
{
	/* drop what was handed out before the buffer grows */
	if (reader->start > 0) {
		g_byte_array_remove_range(reader->buffer, 0, (guint)reader->start);
		reader->start = 0;
	}
	if (length > reader->max_pending ||
	    reader->buffer->len > reader->max_pending - length) {
		reader_clear(reader);
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_PAYLOAD_TOO_LARGE,
			    "line exceeds the limit of %" G_GSIZE_FORMAT " bytes",
			    reader->max_pending);
		return FALSE;
	}
	g_byte_array_append(reader->buffer, data, (guint)length);
	return TRUE;
}

/* a copy of [begin, end) without surrounding ASCII white space; NULL when blank */
static char *
trimmed_copy(const guint8 *begin, const guint8 *end, gsize *length)
{
	char *copy;
	gsize n;

	while (begin < end && g_ascii_isspace(*begin))
		begin++;
	while (end > begin && g_ascii_isspace(end[-1]))
		end--;
	if (begin == end)
		return NULL;
	n = (gsize)(end - begin);
	if (length != NULL)
		*length = n;

	/* not g_strndup(): it would stop at a NUL byte, and the parsers must see it */
	copy = g_malloc(n + 1);
	memcpy(copy, begin, n);
	copy[n] = '\0';
	return copy;
}

/**
 * stdiolink_jsonl_reader_next_line:
 * @reader: a reader
 * @length: (out) (optional): the line's length; it may hold NUL bytes, which the parsers
 *   refuse
 *
 * Lines end at `\n` only; each is trimmed of ASCII white space (so a CRLF line loses its
 * `\r`) and blank lines are skipped (protocol.md 1).
 *
 * Returns: (transfer full) (nullable): the next complete line, or %NULL when none is
 *   complete yet
 */
char *
stdiolink_jsonl_reader_next_line(StdiolinkJsonlReader *reader, gsize *length)
{
	/* nothing fed yet: the buffer has no storage to point into */
	if (reader->buffer->len <= reader->start)
		return NULL;
	for (;;) {
		const guint8 *base = reader->buffer->data + reader->start;
		gsize avail = reader->buffer->len - reader->start;
		const guint8 *newline = memchr(base + reader->scanned, '\n',
					       avail - reader->scanned);
		char *line;

		if (newline == NULL) {
			reader->scanned = avail;
			return NULL;
		}
		line = trimmed_copy(base, newline, length);
		reader->start += (gsize)(newline - base) + 1;
		reader->scanned = 0;
		if (line != NULL)
			return line;
	}
}

/**
 * stdiolink_jsonl_reader_finish:
 * @reader: a reader
 * @length: (out) (optional): the line's length
 *
 * At the end of the stream: takes what is left after the last newline as a last line
 * (trimmed, %NULL when blank) and empties the reader. Call after
 * stdiolink_jsonl_reader_next_line() returned %NULL.
 *
 * Returns: (transfer full) (nullable): the unterminated last line
 */
char *
stdiolink_jsonl_reader_finish(StdiolinkJsonlReader *reader, gsize *length)
{
	const guint8 *base;
	char *line;

	if (reader->buffer->len <= reader->start) {
		reader_clear(reader);
		return NULL;
	}
	base = reader->buffer->data + reader->start;
	line = trimmed_copy(base, reader->buffer->data + reader->buffer->len, length);
	reader_clear(reader);
	return line;
}
