#include "config.h"

#include "fuzz-common.h"
#include "stdiolink.h"

/*
 * A driver's stdout as the host reads it: bytes fed to a line reader in chunks, each line
 * parsed as a response (and as a request, the driver side of the same codec). What parses
 * is written back and must read back to the same line. The first two bytes pick the chunk
 * size and the pending limit, so the overflow path is reachable with small inputs.
 */

static void
check_response(const char *line, gsize length)
{
	g_autoptr(StdiolinkJsonlResponse) response = NULL;
	g_autoptr(StdiolinkJsonlResponse) again = NULL;
	g_autofree char *written = NULL;
	g_autofree char *rewritten = NULL;
	g_autoptr(GError) error = NULL;

	response = stdiolink_jsonl_response_parse(line, (gssize)length, NULL);
	if (response == NULL)
		return;
	(void)stdiolink_jsonl_response_is_terminal(response);
	g_assert_nonnull(stdiolink_jsonl_status_to_string(response->status));

	written = stdiolink_jsonl_response_to_line(response);
	g_assert_true(g_str_has_suffix(written, "\n"));
	again = stdiolink_jsonl_response_parse(written, -1, &error);
	g_assert_no_error(error);
	rewritten = stdiolink_jsonl_response_to_line(again);
	g_assert_cmpstr(rewritten, ==, written);
}

static void
check_request(const char *line, gsize length)
{
	g_autoptr(StdiolinkJsonlRequest) request = NULL;
	g_autoptr(StdiolinkJsonlRequest) again = NULL;
	g_autofree char *written = NULL;
	g_autofree char *rewritten = NULL;
	g_autoptr(GError) error = NULL;

	request = stdiolink_jsonl_request_parse(line, (gssize)length, NULL);
	if (request == NULL)
		return;

	written = stdiolink_jsonl_request_to_line(request);
	again = stdiolink_jsonl_request_parse(written, -1, &error);
	g_assert_no_error(error);
	rewritten = stdiolink_jsonl_request_to_line(again);
	g_assert_cmpstr(rewritten, ==, written);
}

static void
check_line(char *line, gsize length)
{
	/* an exact-size copy: the reader's own copy ends in a NUL the parser must not need */
	g_autofree char *exact = g_memdup2(line, length);

	g_free(line);
	check_response(exact, length);
	check_request(exact, length);
}

static void
drain(StdiolinkJsonlReader *reader)
{
	char *line;
	gsize length = 0;

	while ((line = stdiolink_jsonl_reader_next_line(reader, &length)) != NULL)
		check_line(line, length);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(StdiolinkJsonlReader) reader = NULL;
	gsize chunk;
	gsize max_pending;
	char *last;
	gsize length = 0;

	if (size < 2)
		return 0;
	chunk = 1 + data[0] % 64;
	max_pending = data[1] == 0 ? STDIOLINK_JSONL_MAX_LINE : (gsize)data[1] * 16;
	data += 2;
	size -= 2;

	reader = stdiolink_jsonl_reader_new(max_pending);
	for (gsize offset = 0; offset < size; offset += chunk) {
		gsize n = MIN(chunk, size - offset);

		/* past an overflow the host drops the line and keeps reading */
		if (stdiolink_jsonl_reader_feed(reader, data + offset, n, NULL))
			drain(reader);
		g_assert_cmpuint(stdiolink_jsonl_reader_get_pending(reader), <=, max_pending);
	}

	last = stdiolink_jsonl_reader_finish(reader, &length);
	if (last != NULL)
		check_line(last, length);
	g_assert_cmpuint(stdiolink_jsonl_reader_get_pending(reader), ==, 0);
	return 0;
}
