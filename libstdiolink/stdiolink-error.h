#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * STDIOLINK_ERROR:
 *
 * The error domain of every failure the library reports. The daemon maps each code to an
 * HTTP status in one table and sends stdiolink_error_to_code() as the `code` field.
 */
#define STDIOLINK_ERROR (stdiolink_error_quark())

/**
 * StdiolinkError:
 * @STDIOLINK_ERROR_INTERNAL: unexpected failure (I/O, out of resources); HTTP 500
 * @STDIOLINK_ERROR_BAD_REQUEST: the caller's input is malformed or invalid; HTTP 400
 * @STDIOLINK_ERROR_NOT_FOUND: the named object does not exist; HTTP 404
 * @STDIOLINK_ERROR_CONFLICT: the request conflicts with the current state; HTTP 409
 * @STDIOLINK_ERROR_PAYLOAD_TOO_LARGE: the input exceeds a size limit; HTTP 413
 * @STDIOLINK_ERROR_PROJECT_BUSY: another mutation of the project is in progress; HTTP 409
 * @STDIOLINK_ERROR_JOB_CONFLICT: a job of the same kind with other parameters runs; HTTP 409
 * @STDIOLINK_ERROR_START_TIMEOUT: an instance did not start in time
 * @STDIOLINK_ERROR_START_FAILED: an instance could not be started; HTTP 500
 * @STDIOLINK_ERROR_TERMINATE_TIMEOUT: instances did not exit in time; HTTP 409
 * @STDIOLINK_ERROR_SCAN_TIMEOUT: a driver metadata export did not finish in time
 * @STDIOLINK_ERROR_INVALID_DATA: a file on disk is missing or does not parse
 * @STDIOLINK_ERROR_FORBIDDEN: the request's origin is not allowed; HTTP 403
 * @STDIOLINK_ERROR_MISDIRECTED: the request's Host is not one this daemon answers; HTTP 421
 * @STDIOLINK_ERROR_METHOD_NOT_ALLOWED: the path exists with other methods; HTTP 405
 * @STDIOLINK_ERROR_UNAUTHORIZED: the request lacks the API token; HTTP 401
 * @STDIOLINK_ERROR_UNAVAILABLE: the daemon is still loading its data root; HTTP 503
 */
typedef enum {
	STDIOLINK_ERROR_INTERNAL,
	STDIOLINK_ERROR_BAD_REQUEST,
	STDIOLINK_ERROR_NOT_FOUND,
	STDIOLINK_ERROR_CONFLICT,
	STDIOLINK_ERROR_PAYLOAD_TOO_LARGE,
	STDIOLINK_ERROR_PROJECT_BUSY,
	STDIOLINK_ERROR_JOB_CONFLICT,
	STDIOLINK_ERROR_START_TIMEOUT,
	STDIOLINK_ERROR_START_FAILED,
	STDIOLINK_ERROR_TERMINATE_TIMEOUT,
	STDIOLINK_ERROR_SCAN_TIMEOUT,
	STDIOLINK_ERROR_INVALID_DATA,
	STDIOLINK_ERROR_FORBIDDEN,
	STDIOLINK_ERROR_MISDIRECTED,
	STDIOLINK_ERROR_METHOD_NOT_ALLOWED,
	STDIOLINK_ERROR_UNAUTHORIZED,
	STDIOLINK_ERROR_UNAVAILABLE,
	STDIOLINK_ERROR_LAST
} StdiolinkError;

GQuark stdiolink_error_quark(void);
const char *stdiolink_error_to_code(StdiolinkError error);
StdiolinkError stdiolink_error_from_code(const char *code);

gboolean stdiolink_set_invalid_data(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

G_END_DECLS
