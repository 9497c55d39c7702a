#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * STDIOLINK_JSONL_MAX_LINE:
 *
 * The most bytes a reader holds while it waits for the end of a line (8 MiB): more and the
 * peer is talking nonsense or flooding (protocol.md 3.2, host code 1002).
 */
#define STDIOLINK_JSONL_MAX_LINE 8388608

/**
 * StdiolinkJsonlStatus:
 * @STDIOLINK_JSONL_EVENT: an intermediate response (`event`)
 * @STDIOLINK_JSONL_DONE: the successful end of a request (`done`)
 * @STDIOLINK_JSONL_ERROR: the failed end of a request (`error`)
 *
 * The `status` of a response line (protocol.md 3).
 */
typedef enum {
	STDIOLINK_JSONL_EVENT,
	STDIOLINK_JSONL_DONE,
	STDIOLINK_JSONL_ERROR,
} StdiolinkJsonlStatus;

/**
 * StdiolinkJsonlHostCode:
 * @STDIOLINK_JSONL_CODE_INVALID_RESPONSE: the driver wrote a line that is not a response
 * @STDIOLINK_JSONL_CODE_DRIVER_EXITED: the driver exited, or the request could not be written
 * @STDIOLINK_JSONL_CODE_OVERFLOW: the driver wrote more than %STDIOLINK_JSONL_MAX_LINE bytes
 *   without a newline
 *
 * The codes a host gives to the failures it detects itself; drivers never write them
 * (protocol.md 3.2). 1000 is also what a driver answers to a line that is not a request.
 */
typedef enum {
	STDIOLINK_JSONL_CODE_INVALID_RESPONSE = 1000,
	STDIOLINK_JSONL_CODE_DRIVER_EXITED = 1001,
	STDIOLINK_JSONL_CODE_OVERFLOW = 1002,
} StdiolinkJsonlHostCode;

const char *stdiolink_jsonl_status_to_string(StdiolinkJsonlStatus status);
gboolean stdiolink_jsonl_status_from_string(const char *text, StdiolinkJsonlStatus *status);

/**
 * StdiolinkJsonlRequest:
 * @cmd: the command name
 * @data: (nullable): the `data` member, %NULL when the line had none
 *
 * One request line, host to driver (protocol.md 2).
 */
typedef struct {
	char *cmd;
	JsonNode *data;
} StdiolinkJsonlRequest;

#define STDIOLINK_TYPE_JSONL_REQUEST (stdiolink_jsonl_request_get_type())
GType stdiolink_jsonl_request_get_type(void) G_GNUC_CONST;
StdiolinkJsonlRequest *stdiolink_jsonl_request_new(const char *cmd, JsonNode *data);
StdiolinkJsonlRequest *stdiolink_jsonl_request_copy(const StdiolinkJsonlRequest *request);
void stdiolink_jsonl_request_free(StdiolinkJsonlRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkJsonlRequest, stdiolink_jsonl_request_free)
StdiolinkJsonlRequest *stdiolink_jsonl_request_parse(const char *line,
						     gssize length,
						     GError **error);
char *stdiolink_jsonl_request_to_line(const StdiolinkJsonlRequest *request);
char *stdiolink_jsonl_format_request(const char *cmd, JsonNode *data);

/**
 * StdiolinkJsonlResponse:
 * @status: event, done or error
 * @code: the code; 0 on success by convention
 * @data: the payload; a JSON null node when the line had none, never %NULL
 *
 * One response line, driver to host (protocol.md 3).
 */
typedef struct {
	StdiolinkJsonlStatus status;
	gint64 code;
	JsonNode *data;
} StdiolinkJsonlResponse;

#define STDIOLINK_TYPE_JSONL_RESPONSE (stdiolink_jsonl_response_get_type())
GType stdiolink_jsonl_response_get_type(void) G_GNUC_CONST;
StdiolinkJsonlResponse *stdiolink_jsonl_response_copy(const StdiolinkJsonlResponse *response);
StdiolinkJsonlResponse *stdiolink_jsonl_response_new(StdiolinkJsonlStatus status,
						     gint64 code,
						     JsonNode *data);
StdiolinkJsonlResponse *stdiolink_jsonl_response_new_error(gint64 code, const char *message);
void stdiolink_jsonl_response_free(StdiolinkJsonlResponse *response);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkJsonlResponse, stdiolink_jsonl_response_free)
StdiolinkJsonlResponse *stdiolink_jsonl_response_parse(const char *line,
						       gssize length,
						       GError **error);
char *stdiolink_jsonl_response_to_line(const StdiolinkJsonlResponse *response);
gboolean stdiolink_jsonl_response_is_terminal(const StdiolinkJsonlResponse *response);

/* splits a byte stream into lines; not thread-safe, one per stream */
typedef struct _StdiolinkJsonlReader StdiolinkJsonlReader;

StdiolinkJsonlReader *stdiolink_jsonl_reader_new(gsize max_pending);
void stdiolink_jsonl_reader_free(StdiolinkJsonlReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkJsonlReader, stdiolink_jsonl_reader_free)
gboolean stdiolink_jsonl_reader_feed(StdiolinkJsonlReader *reader,
				     const void *data,
				     gsize length,
				     GError **error);
char *stdiolink_jsonl_reader_next_line(StdiolinkJsonlReader *reader, gsize *length);
char *stdiolink_jsonl_reader_finish(StdiolinkJsonlReader *reader, gsize *length);
gsize stdiolink_jsonl_reader_get_pending(StdiolinkJsonlReader *reader);

G_END_DECLS
