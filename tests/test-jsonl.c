#include "config.h"

#include <string.h>

#include "stdiolink.h"

/* every line a reader hands out, in order, until it has no complete one */
static GPtrArray *
drain(StdiolinkJsonlReader *reader)
{
	GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
	char *line;

	while ((line = stdiolink_jsonl_reader_next_line(reader, NULL)) != NULL)
		g_ptr_array_add(lines, line);
	return lines;
}

static void
feed_ok(StdiolinkJsonlReader *reader, const char *text)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(stdiolink_jsonl_reader_feed(reader, text, strlen(text), &error));
	g_assert_no_error(error);
}

static void
test_request_roundtrip_func(void)
{
	const char *lines[] = {
	    "{\"cmd\":\"add\",\"data\":{\"a\":1,\"b\":0.1}}\n",
	    "{\"cmd\":\"meta.describe\",\"data\":{}}\n",
	    "{\"cmd\":\"x\"}\n",
	    "{\"cmd\":\"x\",\"data\":null}\n",
	    "{\"cmd\":\"\\u00e9\\n\",\"data\":[1,\"two\",[true,false],{\"z\":1,\"a\":2}]}\n",
	    "{\"cmd\":\"big\",\"data\":[9007199254740993,-0.000001,1e300]}\n",
	};

	for (guint i = 0; i < G_N_ELEMENTS(lines); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(StdiolinkJsonlRequest) req = NULL;
		g_autofree char *once = NULL;
		g_autofree char *twice = NULL;
		g_autoptr(StdiolinkJsonlRequest) again = NULL;

		req = stdiolink_jsonl_request_parse(lines[i], (gssize)strlen(lines[i]) - 1, &error);
		g_assert_no_error(error);
		once = stdiolink_jsonl_request_to_line(req);
		again = stdiolink_jsonl_request_parse(once, -1, &error);
		g_assert_no_error(error);
		twice = stdiolink_jsonl_request_to_line(again);

		/* encode(parse(encode(x))) is byte for byte encode(x), and one line */
		g_assert_cmpstr(once, ==, twice);
		g_assert_true(strchr(once, '\n') == once + strlen(once) - 1);
	}
}

static void
test_request_data_kept_func(void)
{
	g_autoptr(StdiolinkJsonlRequest) absent = NULL;
	g_autoptr(StdiolinkJsonlRequest) null = NULL;
	g_autofree char *line = NULL;

	absent = stdiolink_jsonl_request_parse("{\"cmd\":\"a\",\"extra\":1}", -1, NULL);
	g_assert_nonnull(absent);
	g_assert_cmpstr(absent->cmd, ==, "a");
	g_assert_null(absent->data);
	line = stdiolink_jsonl_request_to_line(absent);
	g_assert_cmpstr(line, ==, "{\"cmd\":\"a\"}\n");

	/* an explicit null is present, not absent */
	null = stdiolink_jsonl_request_parse("{\"cmd\":\"a\",\"data\":null}", -1, NULL);
	g_assert_nonnull(null->data);
	g_assert_true(JSON_NODE_HOLDS_NULL(null->data));
}

static void
test_request_invalid_func(void)
{
	struct {
		const char *line;
		gssize length;
		const char *message;
	} cases[] = {
	    {"[1,2]", -1, "invalid request format"},
	    {"\"cmd\"", -1, "invalid request format"},
	    {"{\"data\":{}}", -1, "invalid request format"},
	    {"{\"cmd\":42}", -1, "invalid request format"},
	    {"{\"cmd\":null}", -1, "invalid request format"},
	    {"{\"cmd\":\"a\"", -1, NULL},
	    {"not json", -1, NULL},
	    {"{\"cmd\":\"a\"} {}", -1, "unexpected content after the JSON value"},
	    {"{\"cmd\":\"\xc3\x28\"}", -1, "invalid UTF-8 in JSON text"},
	    {"{\"cmd\":\"a\0\"}", 11, "NUL byte in JSON text"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(StdiolinkJsonlRequest) req = NULL;

		req = stdiolink_jsonl_request_parse(cases[i].line, cases[i].length, &error);
		g_assert_null(req);
		g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
		if (cases[i].message != NULL)
			g_assert_cmpstr(error->message, ==, cases[i].message);
	}
}

static void
test_request_deep_nesting_func(void)
{
	g_autoptr(GString) line = g_string_new("{\"cmd\":\"a\",\"data\":");
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkJsonlRequest) req = NULL;

	for (guint i = 0; i < 100000; i++)
		g_string_append_c(line, '[');
	req = stdiolink_jsonl_request_parse(line->str, (gssize)line->len, &error);
	g_assert_null(req);
	g_assert_cmpstr(error->message, ==, "JSON nested too deeply");
}

static void
test_response_roundtrip_func(void)
{
	const char *lines[] = {
	    "{\"code\":0,\"data\":{\"result\":3},\"status\":\"done\"}\n",
	    "{\"code\":0,\"data\":{\"data\":{\"n\":1},\"event\":\"beat\"},\"status\":\"event\"}\n",
	    "{\"code\":400,\"data\":{\"message\":\"a: expected number\","
	    "\"name\":\"ValidationFailed\"},\"status\":\"error\"}\n",
	    "{\"code\":-1,\"data\":null,\"status\":\"done\"}\n",
	    "{\"code\":7,\"data\":\"text\",\"status\":\"error\"}\n",
	};

	for (guint i = 0; i < G_N_ELEMENTS(lines); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(StdiolinkJsonlResponse) resp = NULL;
		g_autofree char *out = NULL;

		resp = stdiolink_jsonl_response_parse(lines[i], -1, &error);
		g_assert_no_error(error);
		out = stdiolink_jsonl_response_to_line(resp);
		g_assert_cmpstr(out, ==, lines[i]);
	}
}

static void
test_response_fields_func(void)
{
	g_autoptr(StdiolinkJsonlResponse) event = NULL;
	g_autoptr(StdiolinkJsonlResponse) done = NULL;
	g_autoptr(StdiolinkJsonlResponse) error_resp = NULL;
	g_autofree char *line = NULL;

	/* member order on the wire does not matter; a missing data reads as null */
	event = stdiolink_jsonl_response_parse("{\"status\":\"event\",\"code\":0}", -1, NULL);
	g_assert_nonnull(event);
	g_assert_cmpint(event->status, ==, STDIOLINK_JSONL_EVENT);
	g_assert_false(stdiolink_jsonl_response_is_terminal(event));
	g_assert_true(JSON_NODE_HOLDS_NULL(event->data));

	done = stdiolink_jsonl_response_parse("{\"status\":\"done\",\"code\":0.0,\"data\":[]}",
					      -1, NULL);
	g_assert_cmpint(done->status, ==, STDIOLINK_JSONL_DONE);
	g_assert_cmpint(done->code, ==, 0);
	g_assert_true(stdiolink_jsonl_response_is_terminal(done));

	error_resp = stdiolink_jsonl_response_new_error(1001, "driver exited");
	line = stdiolink_jsonl_response_to_line(error_resp);
	g_assert_cmpstr(line, ==,
			"{\"code\":1001,\"data\":{\"message\":\"driver exited\"},"
			"\"status\":\"error\"}\n");
}

static void
test_response_invalid_func(void)
{
	const char *bad[] = {
	    "{\"status\":\"done\"}",
	    "{\"code\":0}",
	    "{\"status\":\"finished\",\"code\":0}",
	    "{\"status\":\"DONE\",\"code\":0}",
	    "{\"status\":1,\"code\":0}",
	    "{\"status\":\"done\",\"code\":\"0\"}",
	    "{\"status\":\"done\",\"code\":null}",
	    "[\"done\",0]",
	    "42",
	};

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(StdiolinkJsonlResponse) resp = NULL;

		resp = stdiolink_jsonl_response_parse(bad[i], -1, &error);
		g_assert_null(resp);
		g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
		g_assert_cmpstr(error->message, ==, "invalid response");
	}
}

static void
test_status_names_func(void)
{
	StdiolinkJsonlStatus status = STDIOLINK_JSONL_EVENT;

	g_assert_cmpstr(stdiolink_jsonl_status_to_string(STDIOLINK_JSONL_DONE), ==, "done");
	g_assert_true(stdiolink_jsonl_status_from_string("error", &status));
	g_assert_cmpint(status, ==, STDIOLINK_JSONL_ERROR);
	g_assert_false(stdiolink_jsonl_status_from_string(NULL, &status));
	g_assert_false(stdiolink_jsonl_status_from_string("", &status));
}

static void
test_reader_partial_func(void)
{
	g_autoptr(StdiolinkJsonlReader) reader = stdiolink_jsonl_reader_new(0);
	const char *stream = "{\"status\":\"event\",\"code\":0}\n"
			     "{\"status\":\"done\",\"code\":0}\n";
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

	/* one byte at a time: a line is handed out only once its newline is in */
	for (const char *p = stream; *p != '\0'; p++) {
		char *line;

		g_assert_true(stdiolink_jsonl_reader_feed(reader, p, 1, NULL));
		while ((line = stdiolink_jsonl_reader_next_line(reader, NULL)) != NULL) {
			g_assert_cmpint(*p, ==, '\n');
			g_ptr_array_add(lines, line);
		}
	}
	g_assert_cmpuint(lines->len, ==, 2);
	g_assert_cmpstr(lines->pdata[0], ==, "{\"status\":\"event\",\"code\":0}");
	g_assert_cmpstr(lines->pdata[1], ==, "{\"status\":\"done\",\"code\":0}");
	g_assert_cmpuint(stdiolink_jsonl_reader_get_pending(reader), ==, 0);
}

static void
test_reader_crlf_blank_func(void)
{
	g_autoptr(StdiolinkJsonlReader) reader = stdiolink_jsonl_reader_new(0);
	g_autoptr(GPtrArray) lines = NULL;
	gsize length = 0;
	g_autofree char *last = NULL;

	feed_ok(reader, "\n\r\n   \t\n{\"a\":1}\r\n  {\"b\":2}  \n\n\r\n{\"c\"");
	lines = drain(reader);
	g_assert_cmpuint(lines->len, ==, 2);
	g_assert_cmpstr(lines->pdata[0], ==, "{\"a\":1}");
	g_assert_cmpstr(lines->pdata[1], ==, "{\"b\":2}");

	/* a lone \r is not a line end */
	feed_ok(reader, ":3}\r{\"d\":4}");
	g_assert_null(stdiolink_jsonl_reader_next_line(reader, NULL));

	/* at EOF the unterminated rest is the last line */
	last = stdiolink_jsonl_reader_finish(reader, &length);
	g_assert_cmpstr(last, ==, "{\"c\":3}\r{\"d\":4}");
	g_assert_cmpuint(length, ==, strlen(last));
	g_assert_null(stdiolink_jsonl_reader_finish(reader, NULL));
}

static void
test_reader_nul_and_utf8_func(void)
{
	g_autoptr(StdiolinkJsonlReader) reader = stdiolink_jsonl_reader_new(0);
	const char bytes[] = "{\"cmd\":\"a\0b\"}\n{\"cmd\":\"\xff\"}\n";
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;
	gsize length = 0;
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkJsonlRequest) req = NULL;

	g_assert_true(stdiolink_jsonl_reader_feed(reader, bytes, sizeof(bytes) - 1, NULL));

	/* the NUL byte reaches the parser, which refuses it instead of reading "a" */
	first = stdiolink_jsonl_reader_next_line(reader, &length);
	g_assert_cmpuint(length, ==, 13);
	g_assert_cmpint(first[9], ==, '\0');
	req = stdiolink_jsonl_request_parse(first, (gssize)length, &error);
	g_assert_null(req);
	g_assert_cmpstr(error->message, ==, "NUL byte in JSON text");
	g_clear_error(&error);

	second = stdiolink_jsonl_reader_next_line(reader, &length);
	req = stdiolink_jsonl_request_parse(second, (gssize)length, &error);
	g_assert_null(req);
	g_assert_cmpstr(error->message, ==, "invalid UTF-8 in JSON text");
}

static void
test_reader_limit_func(void)
{
	g_autoptr(StdiolinkJsonlReader) reader = stdiolink_jsonl_reader_new(16);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) lines = NULL;

	/* exactly at the limit is fine */
	feed_ok(reader, "0123456789abcdef");
	g_assert_null(stdiolink_jsonl_reader_next_line(reader, NULL));

	/* one byte more overflows: everything is dropped, with a clear error */
	g_assert_false(stdiolink_jsonl_reader_feed(reader, "x", 1, &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_PAYLOAD_TOO_LARGE);
	g_assert_cmpstr(error->message, ==, "line exceeds the limit of 16 bytes");
	g_assert_cmpuint(stdiolink_jsonl_reader_get_pending(reader), ==, 0);
	g_clear_error(&error);

	/* lines handed out no longer count; the reader goes on after an overflow */
	feed_ok(reader, "{\"a\":1}\n{\"b\":2}\n");
	lines = drain(reader);
	g_assert_cmpuint(lines->len, ==, 2);
	feed_ok(reader, "0123456789abcdef");
	g_assert_false(stdiolink_jsonl_reader_feed(reader, "0123456789abcdefg", 17, &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_PAYLOAD_TOO_LARGE);
}

static void
test_reader_default_limit_func(void)
{
	g_autoptr(StdiolinkJsonlReader) reader = stdiolink_jsonl_reader_new(0);
	gsize chunk = 1024 * 1024;
	g_autofree char *block = g_malloc(chunk);
	g_autoptr(GError) error = NULL;
	gboolean ok = TRUE;
	guint fed = 0;

	memset(block, 'x', chunk);
	while (ok && fed < 16) {
		ok = stdiolink_jsonl_reader_feed(reader, block, chunk, &error);
		fed++;
	}

	/* 8 MiB fit, the ninth mebibyte does not */
	g_assert_false(ok);
	g_assert_cmpuint(fed, ==, 9);
	g_assert_cmpstr(error->message, ==, "line exceeds the limit of 8388608 bytes");
}

static void
test_reader_many_lines_func(void)
{
	g_autoptr(StdiolinkJsonlReader) reader = stdiolink_jsonl_reader_new(0);
	g_autoptr(GString) stream = g_string_new(NULL);
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	gsize offset = 0;
	guint step = 7;

	for (guint i = 0; i < 500; i++) {
		g_autoptr(StdiolinkJsonlResponse) resp = NULL;
		g_autoptr(JsonNode) data = json_node_new(JSON_NODE_VALUE);
		g_autofree char *line = NULL;

		json_node_set_int(data, i);
		resp = stdiolink_jsonl_response_new(STDIOLINK_JSONL_EVENT, 0, data);
		line = stdiolink_jsonl_response_to_line(resp);
		g_string_append(stream, line);
	}

	/* uneven chunks, drained after each: every line comes out once, in order */
	while (offset < stream->len) {
		gsize n = MIN(step, stream->len - offset);
		g_autoptr(GPtrArray) some = NULL;

		g_assert_true(stdiolink_jsonl_reader_feed(reader, stream->str + offset, n, NULL));
		offset += n;
		step = step * 3 % 101 + 1;
		some = drain(reader);
		for (guint i = 0; i < some->len; i++)
			g_ptr_array_add(lines, g_strdup(some->pdata[i]));
	}
	g_assert_cmpuint(lines->len, ==, 500);
	for (guint i = 0; i < lines->len; i++) {
		g_autoptr(StdiolinkJsonlResponse) resp = NULL;

		resp = stdiolink_jsonl_response_parse(lines->pdata[i], -1, NULL);
		g_assert_nonnull(resp);
		g_assert_cmpint(json_node_get_int(resp->data), ==, i);
	}
}

/* found by fuzzing: an empty reader and an out-of-range code were undefined behaviour */
static void
test_fuzz_regressions_func(void)
{
	g_autoptr(StdiolinkJsonlReader) reader = stdiolink_jsonl_reader_new(0);
	const char *codes[] = {"{\"status\":\"done\",\"code\":1e300,\"data\":{}}",
			       "{\"status\":\"done\",\"code\":-1e19,\"data\":{}}",
			       "{\"status\":\"done\",\"code\":1.5,\"data\":{}}"};

	g_assert_null(stdiolink_jsonl_reader_next_line(reader, NULL));
	g_assert_null(stdiolink_jsonl_reader_finish(reader, NULL));
	for (guint i = 0; i < G_N_ELEMENTS(codes); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(StdiolinkJsonlResponse) response =
		    stdiolink_jsonl_response_parse(codes[i], -1, &error);

		g_assert_null(response);
		g_assert_nonnull(error);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/jsonl/request/roundtrip", test_request_roundtrip_func);
	g_test_add_func("/jsonl/request/data-kept", test_request_data_kept_func);
	g_test_add_func("/jsonl/request/invalid", test_request_invalid_func);
	g_test_add_func("/jsonl/request/deep-nesting", test_request_deep_nesting_func);
	g_test_add_func("/jsonl/response/roundtrip", test_response_roundtrip_func);
	g_test_add_func("/jsonl/response/fields", test_response_fields_func);
	g_test_add_func("/jsonl/response/invalid", test_response_invalid_func);
	g_test_add_func("/jsonl/status-names", test_status_names_func);
	g_test_add_func("/jsonl/reader/partial", test_reader_partial_func);
	g_test_add_func("/jsonl/reader/crlf-blank", test_reader_crlf_blank_func);
	g_test_add_func("/jsonl/reader/nul-and-utf8", test_reader_nul_and_utf8_func);
	g_test_add_func("/jsonl/reader/limit", test_reader_limit_func);
	g_test_add_func("/jsonl/reader/default-limit", test_reader_default_limit_func);
	g_test_add_func("/jsonl/reader/many-lines", test_reader_many_lines_func);
	g_test_add_func("/jsonl/fuzz-regressions", test_fuzz_regressions_func);
	return g_test_run();
}
