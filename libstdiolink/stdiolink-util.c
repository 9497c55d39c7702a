#include "config.h"

#include <string.h>

#include "stdiolink-error.h"
#include "stdiolink-util.h"

/**
 * stdiolink_time_to_iso8601:
 * @time: a time in any zone
 * @with_millis: whether to add milliseconds (event log) or not (API fields)
 *
 * Returns: (transfer full): UTC time such as `2025-01-02T03:04:05Z` or
 *   `2025-01-02T03:04:05.678Z`
 */
char *
stdiolink_time_to_iso8601(GDateTime *time, gboolean with_millis)
{
	g_autoptr(GDateTime) utc = g_date_time_to_utc(time);
	g_autofree char *base = g_date_time_format(utc, "%Y-%m-%dT%H:%M:%S");

	if (!with_millis)
		return g_strconcat(base, "Z", NULL);
	return g_strdup_printf("%s.%03dZ", base, g_date_time_get_microsecond(utc) / 1000);
}

/**
 * stdiolink_now_iso8601:
 * @with_millis: whether to add milliseconds
 *
 * Returns: (transfer full): the current UTC time, formatted as stdiolink_time_to_iso8601()
 */
char *
stdiolink_now_iso8601(gboolean with_millis)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();

	return stdiolink_time_to_iso8601(now, with_millis);
}

/**
 * stdiolink_write_file_atomic:
 * @path: the final path
 * @contents: the bytes
 * @length: their length, or -1 if nul-terminated
 * @mode: the file mode, e.g. 0600
 * @error: return location for a #GError
 *
 * Writes to a temporary file in the same folder, flushes it and renames it over @path, so
 * that a crash leaves either the old or the new file and never a partial one.
 *
 * Returns: %TRUE on success
 */
gboolean
stdiolink_write_file_atomic(const char *path,
			    const char *contents,
			    gssize length,
			    int mode,
			    GError **error)
{
	g_autoptr(GError) local_error = NULL;

	if (!g_file_set_contents_full(path, contents, length, G_FILE_SET_CONTENTS_CONSISTENT,
				      mode, &local_error)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "cannot write %s: %s", path, local_error->message);
		return FALSE;
	}
	return TRUE;
}

/**
 * stdiolink_random_hex:
 * @n_chars: how many hex digits, at most 32
 *
 * Returns: (transfer full): lower-case hex digits taken from a random UUID
 */
char *
stdiolink_random_hex(guint n_chars)
{
	g_autofree char *uuid = g_uuid_string_random();
	GString *out = g_string_new(NULL);

	for (const char *p = uuid; *p != '\0' && out->len < n_chars; p++) {
		if (*p != '-')
			g_string_append_c(out, *p);
	}
	return g_string_free(out, FALSE);
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/**
 * stdiolink_sort_strings:
 * @strings: (element-type utf8): UTF-8 strings
 *
 * Sorts @strings in place in code-point order (strcmp() on UTF-8), the order of every
 * collection the API returns.
 */
void
stdiolink_sort_strings(GPtrArray *strings)
{
	g_return_if_fail(strings != NULL);

	g_ptr_array_sort(strings, compare_strings);
}

/**
 * stdiolink_is_valid_project_id:
 * @id: (nullable): a candidate id
 *
 * Returns: %TRUE if @id is non-empty and only holds `A-Z a-z 0-9 _ -`
 */
gboolean
stdiolink_is_valid_project_id(const char *id)
{
	if (id == NULL || *id == '\0')
		return FALSE;
	for (const char *p = id; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-')
			return FALSE;
	}
	return TRUE;
}
