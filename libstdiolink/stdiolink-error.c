#include "config.h"

#include "stdiolink-error.h"

G_DEFINE_QUARK(stdiolink-error-quark, stdiolink_error)

/* the wire names of the codes, in enum order; they are API and never translated */
static const char *const error_codes[] = {
	"internal",
	"bad_request",
	"not_found",
	"conflict",
	"payload_too_large",
	"project_busy",
	"job_conflict",
	"start_timeout",
	"start_failed",
	"terminate_timeout",
	"scan_timeout",
	"invalid_data",
	"forbidden",
	"misdirected_request",
	"method_not_allowed",
	"unauthorized",
	"unavailable",
};

G_STATIC_ASSERT(G_N_ELEMENTS(error_codes) == STDIOLINK_ERROR_LAST);

/**
 * stdiolink_error_to_code:
 * @error: a #StdiolinkError
 *
 * Returns: the stable, lower-case name sent as the `code` field of an error body
 */
const char *
stdiolink_error_to_code(StdiolinkError error)
{
	if ((guint)error >= G_N_ELEMENTS(error_codes))
		return "internal";
	return error_codes[error];
}

/**
 * stdiolink_error_from_code:
 * @code: (nullable): a code as returned by stdiolink_error_to_code()
 *
 * Returns: the matching #StdiolinkError, or %STDIOLINK_ERROR_INTERNAL if unknown
 */
StdiolinkError
stdiolink_error_from_code(const char *code)
{
	if (code == NULL)
		return STDIOLINK_ERROR_INTERNAL;
	for (guint i = 0; i < G_N_ELEMENTS(error_codes); i++) {
		if (g_str_equal(code, error_codes[i]))
			return (StdiolinkError)i;
	}
	return STDIOLINK_ERROR_INTERNAL;
}

/**
 * stdiolink_set_invalid_data:
 * @error: return location for a #GError, or %NULL
 * @format: printf()-style format of the message
 * @...: its arguments
 *
 * Sets %STDIOLINK_ERROR_INVALID_DATA, the error of every file on disk that cannot be
 * loaded (services, drivers).
 *
 * Returns: %FALSE, so that a check can end with `return stdiolink_set_invalid_data(...)`
 */
gboolean
stdiolink_set_invalid_data(GError **error, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	g_propagate_error(error, g_error_new_valist(STDIOLINK_ERROR, STDIOLINK_ERROR_INVALID_DATA,
						    format, args));
	va_end(args);
	return FALSE;
}
