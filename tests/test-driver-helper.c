#include "config.h"

#include <string.h>

#include "sl-test-utils.h"
#include "stdiolink.h"

/*
 * The driver helper, exercised through real driver processes: the demo drivers and
 * sl-test-driver, all built with it. A test may block on them: it is not the daemon.
 */

typedef struct {
	int status;  /* exit code */
	char *out;
	char *err;
	GPtrArray *lines; /* stdout split into lines */
} Run;

static void
run_clear(Run *run)
{
	g_free(run->out);
	g_free(run->err);
	g_clear_pointer(&run->lines, g_ptr_array_unref);
}

static char *
demo_driver_path(const char *name)
{
	g_autofree char *exe = g_strconcat("stdio.drv.", name, NULL);

	return g_build_filename(g_getenv("SL_DEMO_DRIVERS"), name, exe, NULL);
}

static char *
driver_path(const char *name)
{
	if (g_str_equal(name, "test"))
		return g_strdup(g_getenv("SL_TEST_DRIVER"));
	return demo_driver_path(name);
}

/* runs driver @name with the NULL-terminated arguments after @input (stdin text) */
static void
run_driver(Run *run, const char *name, const char *input, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) split = NULL;
	const char *arg;
	va_list args;

	memset(run, 0, sizeof(*run));
	g_ptr_array_add(argv, driver_path(name));
	va_start(args, input);
	while ((arg = va_arg(args, const char *)) != NULL)
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(args);
	g_ptr_array_add(argv, NULL);

	proc = g_subprocess_newv((const char *const *)argv->pdata,
				 G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
				     G_SUBPROCESS_FLAGS_STDERR_PIPE,
				 &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, input != NULL ? input : "", NULL, &run->out,
				      &run->err, &error);
	g_assert_no_error(error);
	if (!g_subprocess_get_if_exited(proc)) {
		/* a sanitizer report in the driver aborts it: show what it said */
		g_printerr("driver %s died by signal %d; its stderr:\n%s\n", name,
			   g_subprocess_get_term_sig(proc), run->err);
	}
	g_assert_true(g_subprocess_get_if_exited(proc));
	run->status = g_subprocess_get_exit_status(proc);

	run->lines = g_ptr_array_new_with_free_func(g_free);
	split = g_strsplit(run->out, "\n", -1);
	for (guint i = 0; split[i] != NULL; i++) {
		if (*split[i] != '\0')
			g_ptr_array_add(run->lines, g_strdup(split[i]));
	}
}

/* line @i of the output, which must be a response */
static StdiolinkJsonlResponse *
response_at(Run *run, guint i)
{
	g_autoptr(GError) error = NULL;
	StdiolinkJsonlResponse *response;

	g_assert_cmpuint(i, <, run->lines->len);
	response = stdiolink_jsonl_response_parse(run->lines->pdata[i], -1, &error);
	g_assert_no_error(error);
	return response;
}

static char *
data_string(StdiolinkJsonlResponse *response)
{
	return stdiolink_json_to_string(response->data, STDIOLINK_JSON_COMPACT);
}

/* the response at line @i has this status, code and compact data */
static void
assert_response(Run *run, guint i, StdiolinkJsonlStatus status, gint64 code, const char *data)
{
	g_autoptr(StdiolinkJsonlResponse) response = response_at(run, i);
	g_autofree char *text = data_string(response);

	g_assert_cmpint(response->status, ==, status);
	g_assert_cmpint(response->code, ==, code);
	if (data != NULL)
		g_assert_cmpstr(text, ==, data);
}

static void
assert_validation_error(const char *name, const char *request, const char *message)
{
	Run run;
	g_autofree char *expected = g_strdup_printf(
	    "{\"message\":\"%s\",\"name\":\"ValidationFailed\"}", message);

	run_driver(&run, name, request, NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpuint(run.lines->len, ==, 1);
	assert_response(&run, 0, STDIOLINK_JSONL_ERROR, 400, expected);
	run_clear(&run);
}

/* ---- stdio mode ------------------------------------------------------------------------ */

static void
test_meta_describe_func(void)
{
	Run run;
	Run exported;
	g_autoptr(StdiolinkJsonlResponse) response = NULL;
	g_autoptr(JsonNode) file_meta = NULL;
	JsonObject *meta;
	JsonArray *commands;
	JsonObject *info;

	run_driver(&run, "calculator", "{\"cmd\":\"meta.describe\",\"data\":{}}\n", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpuint(run.lines->len, ==, 1);
	response = response_at(&run, 0);
	g_assert_cmpint(response->status, ==, STDIOLINK_JSONL_DONE);
	g_assert_cmpint(response->code, ==, 0);

	meta = json_node_get_object(response->data);
	info = json_object_get_object_member(meta, "info");
	g_assert_cmpstr(json_object_get_string_member(meta, "schemaVersion"), ==, "1.0");
	g_assert_cmpstr(json_object_get_string_member(info, "id"), ==, "demo.calculator");
	g_assert_cmpstr(json_object_get_string_member(info, "name"), ==, "Calculator");
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(info, "profiles")),
			 ==, 2);

	/* commands in registration order, each with its params and returns */
	commands = json_object_get_array_member(meta, "commands");
	g_assert_cmpuint(json_array_get_length(commands), ==, 5);
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(commands, 0),
						      "name"),
			==, "add");
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(commands, 4),
						      "name"),
			==, "sum");

	/* what --export-meta writes is the same meta */
	run_driver(&exported, "calculator", NULL, "--export-meta", NULL);
	g_assert_cmpint(exported.status, ==, 0);
	file_meta = stdiolink_json_parse(exported.out, -1, NULL);
	g_assert_true(stdiolink_json_equal(file_meta, response->data));
	run_clear(&exported);
	run_clear(&run);
}

static void
test_meta_unknown_func(void)
{
	Run run;

	run_driver(&run, "calculator", "{\"cmd\":\"meta.validate\",\"data\":{}}\n", NULL);
	assert_response(&run, 0, STDIOLINK_JSONL_ERROR, 404,
			"{\"message\":\"Unknown meta command: meta.validate\","
			"\"name\":\"CommandNotFound\"}");
	run_clear(&run);

	run_driver(&run, "calculator", "{\"cmd\":\"power\"}\n", NULL);
	assert_response(&run, 0, STDIOLINK_JSONL_ERROR, 404,
			"{\"message\":\"Unknown command: power\",\"name\":\"CommandNotFound\"}");
	run_clear(&run);
}

static void
test_validation_func(void)
{
	assert_validation_error("calculator", "{\"cmd\":\"add\",\"data\":{\"a\":1}}\n",
				"b: required field missing");
	assert_validation_error("calculator", "{\"cmd\":\"add\",\"data\":{\"a\":\"1\",\"b\":2}}\n",
				"a: expected number");
	assert_validation_error("calculator", "{\"cmd\":\"add\",\"data\":[1,2]}\n",
				"params must be an object");
	assert_validation_error("calculator", "{\"cmd\":\"add\"}\n", "a: required field missing");
	assert_validation_error("calculator",
				"{\"cmd\":\"sum\",\"data\":{\"values\":[1,true]}}\n",
				"values[1]: expected number");
	assert_validation_error("calculator", "{\"cmd\":\"sum\",\"data\":{\"values\":[]}}\n",
				"values: array too short");
	assert_validation_error("calculator",
				"{\"cmd\":\"divide\",\"data\":{\"a\":1,\"b\":2,\"digits\":1.5}}\n",
				"digits: expected integer, got decimal");
	assert_validation_error("test", "{\"cmd\":\"echo\",\"data\":{\"mode\":\"c\"}}\n",
				"mode: invalid enum value");
	assert_validation_error("test", "{\"cmd\":\"echo\",\"data\":{\"text\":\"ABC\"}}\n",
				"text: pattern mismatch");
	assert_validation_error("test", "{\"cmd\":\"echo\",\"data\":{\"opts\":{\"level\":12}}}\n",
				"opts.level: value 12 > max 9");
	assert_validation_error("heartbeat", "{\"cmd\":\"beat\",\"data\":{\"count\":0}}\n",
				"count: value 0 < min 1");
}

static void
test_defaults_func(void)
{
	Run run;

	/* top level and nested defaults; an object with defaults is created when absent */
	run_driver(&run, "test", "{\"cmd\":\"echo\"}\n", NULL);
	g_assert_cmpuint(run.lines->len, ==, 2);
	assert_response(&run, 1, STDIOLINK_JSONL_DONE, 0,
			"{\"mode\":\"a\",\"opts\":{\"level\":1,\"tag\":\"x\"}}");
	run_clear(&run);

	/* present values win, missing nested ones are filled, unknown keys pass through */
	run_driver(&run, "test",
		   "{\"cmd\":\"echo\","
		   "\"data\":{\"mode\":\"b\",\"opts\":{\"level\":3},\"z\":null}}\n",
		   NULL);
	assert_response(&run, 1, STDIOLINK_JSONL_DONE, 0,
			"{\"mode\":\"b\",\"opts\":{\"level\":3,\"tag\":\"x\"},\"z\":null}");
	run_clear(&run);

	/* a wrong-typed object value is replaced by the filled defaults (schema.md 5.1) */
	run_driver(&run, "test", "{\"cmd\":\"echo\",\"data\":{\"opts\":\"str\"}}\n", NULL);
	assert_response(&run, 1, STDIOLINK_JSONL_DONE, 0,
			"{\"mode\":\"a\",\"opts\":{\"level\":1,\"tag\":\"x\"}}");
	run_clear(&run);
}

static void
test_oneshot_func(void)
{
	Run run;

	/* blank lines do not count; the first real line is the one request */
	run_driver(&run, "calculator",
		   "\n  \r\n{\"cmd\":\"add\",\"data\":{\"a\":1,\"b\":2}}\r\n"
		   "{\"cmd\":\"add\",\"data\":{\"a\":5,\"b\":5}}\n",
		   NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpuint(run.lines->len, ==, 1);
	assert_response(&run, 0, STDIOLINK_JSONL_DONE, 0, "{\"result\":3}");
	run_clear(&run);

	/* an invalid line is a request too */
	run_driver(&run, "calculator", "junk\n{\"cmd\":\"add\",\"data\":{\"a\":1,\"b\":2}}\n",
		   "--profile=oneshot", NULL);
	g_assert_cmpuint(run.lines->len, ==, 1);
	run_clear(&run);

	/* unknown profiles mean the default; stdin closed at once: nothing to do */
	run_driver(&run, "calculator", "", "--profile=forever", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpuint(run.lines->len, ==, 0);
	run_clear(&run);
}

static void
test_keepalive_func(void)
{
	Run run;

	run_driver(&run, "kvstore",
		   "{\"cmd\":\"set\",\"data\":{\"key\":\"b\",\"value\":[1,{\"x\":true}]}}\n"
		   "{\"cmd\":\"set\",\"data\":{\"key\":\"a\",\"value\":\"v\"}}\n"
		   "{\"cmd\":\"get\",\"data\":{\"key\":\"b\"}}\n"
		   "{\"cmd\":\"list\"}\n"
		   "{\"cmd\":\"delete\",\"data\":{\"key\":\"a\"}}\n"
		   "{\"cmd\":\"get\",\"data\":{\"key\":\"a\"}}\n"
		   "{\"cmd\":\"clear\"}",
		   "--profile=keepalive", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpuint(run.lines->len, ==, 7);
	assert_response(&run, 0, STDIOLINK_JSONL_DONE, 0, "{\"created\":true,\"key\":\"b\"}");
	assert_response(&run, 2, STDIOLINK_JSONL_DONE, 0,
			"{\"key\":\"b\",\"value\":[1,{\"x\":true}]}");
	assert_response(&run, 3, STDIOLINK_JSONL_DONE, 0, "{\"count\":2,\"keys\":[\"a\",\"b\"]}");
	assert_response(&run, 4, STDIOLINK_JSONL_DONE, 0, "{\"deleted\":true}");
	assert_response(&run, 5, STDIOLINK_JSONL_ERROR, 2, "{\"message\":\"key not found: a\"}");

	/* the last line had no newline: at EOF it still counts */
	assert_response(&run, 6, STDIOLINK_JSONL_DONE, 0, "{\"removed\":1}");
	run_clear(&run);

	/* oneshot: every process starts empty */
	run_driver(&run, "kvstore", "{\"cmd\":\"get\",\"data\":{\"key\":\"b\"}}\n", NULL);
	assert_response(&run, 0, STDIOLINK_JSONL_ERROR, 2, NULL);
	run_clear(&run);
}

static void
test_invalid_lines_func(void)
{
	Run run;
	g_autoptr(StdiolinkJsonlResponse) bad_utf8 = NULL;
	JsonObject *data;

	run_driver(&run, "calculator",
		   "junk\n[1]\n{\"cmd\":7}\n{\"cmd\":\"\xff\"}\n"
		   "{\"cmd\":\"add\",\"data\":{\"a\":1,\"b\":2}}\n",
		   "--profile=keepalive", NULL);
	g_assert_cmpuint(run.lines->len, ==, 5);
	assert_response(&run, 0, STDIOLINK_JSONL_ERROR, 1000,
			"{\"message\":\"invalid request format\",\"raw\":\"junk\"}");
	assert_response(&run, 1, STDIOLINK_JSONL_ERROR, 1000,
			"{\"message\":\"invalid request format\",\"raw\":\"[1]\"}");
	assert_response(&run, 2, STDIOLINK_JSONL_ERROR, 1000,
			"{\"message\":\"invalid request format\",\"raw\":\"{\\\"cmd\\\":7}\"}");

	/* the raw line is echoed as valid UTF-8 */
	bad_utf8 = response_at(&run, 3);
	data = json_node_get_object(bad_utf8->data);
	g_assert_true(g_utf8_validate(json_object_get_string_member(data, "raw"), -1, NULL));
	g_assert_cmpint(bad_utf8->code, ==, 1000);

	/* and the driver goes on */
	assert_response(&run, 4, STDIOLINK_JSONL_DONE, 0, "{\"result\":3}");
	run_clear(&run);
}

static void
test_async_reply_func(void)
{
	Run run;

	run_driver(&run, "test",
		   "{\"cmd\":\"later\"}\n{\"cmd\":\"forget\"}\n"
		   "{\"cmd\":\"later\",\"data\":{\"ms\":1}}\n",
		   "--profile=keepalive", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpuint(run.lines->len, ==, 5);

	/* a late reply holds the next request back until it is done */
	assert_response(&run, 0, STDIOLINK_JSONL_EVENT, 0, "{\"data\":null,\"event\":\"tick\"}");
	assert_response(&run, 1, STDIOLINK_JSONL_DONE, 0, "null");

	/* a handler that forgets to answer still ends its request */
	assert_response(&run, 2, STDIOLINK_JSONL_ERROR, 1,
			"{\"message\":\"command ended without a reply\"}");
	assert_response(&run, 4, STDIOLINK_JSONL_DONE, 0, "null");
	run_clear(&run);
}

static void
test_heartbeat_events_func(void)
{
	Run run;

	run_driver(&run, "heartbeat",
		   "{\"cmd\":\"beat\",\"data\":{\"count\":3,\"intervalMs\":10,\"label\":\"hb\"}}\n",
		   NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpuint(run.lines->len, ==, 4);
	for (guint i = 0; i < 3; i++) {
		g_autofree char *expected = g_strdup_printf(
		    "{\"data\":{\"label\":\"hb\",\"n\":%u,\"of\":3},\"event\":\"beat\"}", i + 1);

		assert_response(&run, i, STDIOLINK_JSONL_EVENT, 0, expected);
	}
	assert_response(&run, 3, STDIOLINK_JSONL_DONE, 0, "{\"beats\":3}");
	run_clear(&run);
}

static void
test_logging_func(void)
{
	Run run;

	/* log output goes to stderr with prefixes; stdout carries protocol lines only */
	run_driver(&run, "test", "{\"cmd\":\"log\"}\n", NULL);
	g_assert_cmpuint(run.lines->len, ==, 1);
	assert_response(&run, 0, STDIOLINK_JSONL_DONE, 0, "null");
	g_assert_nonnull(strstr(run.err, "[INFO] a message\n"));
	g_assert_nonnull(strstr(run.err, "[WARN] a warning\n"));
	g_assert_null(strstr(run.err, "a debug line"));
	run_clear(&run);
}

/* ---- console mode and the command line ------------------------------------------------- */

static void
test_console_func(void)
{
	Run run;

	run_driver(&run, "calculator", NULL, "--cmd=add", "--a=1", "--b=2.5", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpuint(run.lines->len, ==, 1);
	assert_response(&run, 0, STDIOLINK_JSONL_DONE, 0, "{\"result\":3.5}");
	run_clear(&run);

	/* paths build nested data; values are JSON literals or else strings */
	run_driver(&run, "test", NULL, "-c", "echo", "--opts.level=4", "--arg-mode=b",
		   "--z[1].k=v", "--n=[1,2]", "--s=\"5\"", "--guard=ignored", NULL);
	g_assert_cmpint(run.status, ==, 0);
	assert_response(&run, 1, STDIOLINK_JSONL_DONE, 0,
			"{\"mode\":\"b\",\"n\":[1,2],\"opts\":{\"level\":4,\"tag\":\"x\"},"
			"\"s\":\"5\",\"z\":[null,{\"k\":\"v\"}]}");
	run_clear(&run);

	/* events are printed as they come, then the result */
	run_driver(&run, "heartbeat", NULL, "--cmd=beat", "--count=2", "--intervalMs=1", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpuint(run.lines->len, ==, 3);
	run_clear(&run);
}

static void
test_console_exit_codes_func(void)
{
	Run run;

	/* an error exits with its code */
	run_driver(&run, "calculator", NULL, "--cmd=divide", "--a=1", "--b=0", NULL);
	g_assert_cmpint(run.status, ==, 1);
	assert_response(&run, 0, STDIOLINK_JSONL_ERROR, 1, NULL);
	run_clear(&run);

	run_driver(&run, "heartbeat", NULL, "--cmd=fail", "--after=0", "--code=7", NULL);
	g_assert_cmpint(run.status, ==, 7);
	run_clear(&run);

	/* codes over 255 exit 3: validation (400) and unknown commands (404) */
	run_driver(&run, "heartbeat", NULL, "--cmd=fail", "--after=0", "--code=300", NULL);
	g_assert_cmpint(run.status, ==, 3);
	run_clear(&run);
	run_driver(&run, "calculator", NULL, "--cmd=add", "--a=1", NULL);
	g_assert_cmpint(run.status, ==, 3);
	run_clear(&run);
	run_driver(&run, "calculator", NULL, "--cmd=nope", NULL);
	g_assert_cmpint(run.status, ==, 3);
	run_clear(&run);

	/* --mode=stdio with --cmd still serves stdin */
	run_driver(&run, "calculator", "{\"cmd\":\"add\",\"data\":{\"a\":2,\"b\":2}}\n",
		   "--mode=stdio", "--cmd=add", NULL);
	g_assert_cmpint(run.status, ==, 0);
	assert_response(&run, 0, STDIOLINK_JSONL_DONE, 0, "{\"result\":4}");
	run_clear(&run);
}

static void
assert_usage_error(const char *message, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *expected = g_strconcat(message, "\n", NULL);
	const char *arg;
	va_list args;

	g_ptr_array_add(argv, demo_driver_path("calculator"));
	va_start(args, message);
	while ((arg = va_arg(args, const char *)) != NULL)
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(args);
	g_ptr_array_add(argv, NULL);

	proc = g_subprocess_newv((const char *const *)argv->pdata,
				 G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
				     G_SUBPROCESS_FLAGS_STDERR_PIPE,
				 &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, "", NULL, &out, &err, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 1);
	g_assert_cmpstr(out, ==, "");
	g_assert_cmpstr(err, ==, expected);
}

static void
test_argument_errors_func(void)
{
	assert_usage_error("Invalid argument: add", "add", NULL);
	assert_usage_error("Missing value for argument: --cmd", "--cmd", NULL);
	assert_usage_error("Missing value for argument: --a", "--cmd=add", "--a", NULL);
	assert_usage_error("Data arguments require --cmd", "--a=1", NULL);
	assert_usage_error("Console mode requires --cmd", "--mode=console", NULL);
	assert_usage_error("Console mode requires --cmd", "-m", "console", NULL);
	assert_usage_error("Unknown short argument: -x", "-x", NULL);
	assert_usage_error("Missing value for argument: -c", "-c", NULL);
}

static void
test_help_version_func(void)
{
	Run run;

	/* help wins over everything, version over exports; both on stderr, exit 0 */
	run_driver(&run, "calculator", NULL, "--export-meta", "--version", "--help", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpstr(run.out, ==, "");
	g_assert_nonnull(strstr(run.err, "Usage:"));
	g_assert_nonnull(strstr(run.err, "divide"));
	run_clear(&run);

	run_driver(&run, "calculator", NULL, "-E", "-v", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpstr(run.out, ==, "");
	g_assert_cmpstr(run.err, ==, "Calculator 1.0.0\n");
	run_clear(&run);
}

static void
test_export_meta_file_func(void)
{
	g_autofree char *dir = sl_test_make_tmp_dir("driver-helper-XXXXXX");
	g_autofree char *path = g_build_filename(dir, "driver.meta.json", NULL);
	g_autofree char *arg = g_strconcat("--export-meta=", path, NULL);
	g_autofree char *bad = g_build_filename(dir, "missing", "driver.meta.json", NULL);
	g_autofree char *bad_arg = g_strconcat("--export-meta=", bad, NULL);
	g_autofree char *expected_error = g_strdup_printf("Failed to write file: %s\n", bad);
	g_autofree char *contents = NULL;
	g_autoptr(JsonNode) meta = NULL;
	Run run;

	/* an existing file is truncated */
	sl_test_write_file(dir, "driver.meta.json", "old contents that are longer", 0644);
	run_driver(&run, "heartbeat", NULL, arg, NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpstr(run.out, ==, "");
	run_clear(&run);
	contents = sl_test_read_file(path);
	g_assert_true(g_str_has_prefix(contents, "{\n    \"commands\": ["));
	meta = stdiolink_json_parse(contents, -1, NULL);
	g_assert_cmpstr(json_object_get_string_member(
			    json_object_get_object_member(json_node_get_object(meta), "info"),
			    "id"),
			==, "demo.heartbeat");

	run_driver(&run, "heartbeat", NULL, bad_arg, NULL);
	g_assert_cmpint(run.status, ==, 1);
	g_assert_cmpstr(run.err, ==, expected_error);
	run_clear(&run);
	sl_test_remove_tree(dir);
}

static void
test_export_no_meta_func(void)
{
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;

	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					     G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_subprocess_launcher_setenv(launcher, "SL_TEST_DRIVER_NO_ID", "1", TRUE);
	proc = g_subprocess_launcher_spawn(launcher, &error, g_getenv("SL_TEST_DRIVER"),
					   "--export-meta", NULL);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 1);
	g_assert_cmpstr(out, ==, "");
	g_assert_cmpstr(err, ==, "No metadata available\n");
}

static void
test_export_doc_func(void)
{
	Run run;
	g_autoptr(JsonNode) api = NULL;
	JsonObject *paths;

	run_driver(&run, "calculator", NULL, "--export-doc=markdown", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_true(g_str_has_prefix(run.out, "# Calculator\n\n**Version:** 1.0.0\n"));
	g_assert_nonnull(strstr(run.out, "## Commands\n\n### add\n"));
	g_assert_nonnull(strstr(run.out, "| a | double | Yes | First operand |\n"));
	g_assert_nonnull(strstr(run.out, "| digits | int | No | Decimal places to round to "
					 "(Range: 0-15) |\n"));
	g_assert_nonnull(strstr(run.out, "- CLI: `"));
	g_assert_nonnull(strstr(run.out, " --cmd=add --a=1 --b=2`\n"));
	run_clear(&run);

	run_driver(&run, "calculator", NULL, "-D", "OpenAPI", NULL);
	g_assert_cmpint(run.status, ==, 0);
	api = stdiolink_json_parse(run.out, -1, NULL);
	g_assert_nonnull(api);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(api), "openapi"), ==,
			"3.0.3");
	paths = json_object_get_object_member(json_node_get_object(api), "paths");
	g_assert_true(json_object_has_member(paths, "/divide"));
	run_clear(&run);

	run_driver(&run, "calculator", NULL, "--export-doc=html", NULL);
	g_assert_true(g_str_has_prefix(run.out, "<!DOCTYPE html>"));
	run_clear(&run);
	run_driver(&run, "calculator", NULL, "--export-doc=ts", NULL);
	g_assert_nonnull(strstr(run.out, "\"sum\": { values: Array<number>; };"));
	run_clear(&run);

	run_driver(&run, "calculator", NULL, "--export-doc=pdf", NULL);
	g_assert_cmpint(run.status, ==, 1);
	g_assert_cmpstr(run.err, ==, "Unknown documentation format: pdf\n");
	run_clear(&run);
}

/* ---- in-process: registration ---------------------------------------------------------- */

static void
nothing_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
}

static void
assert_add_fails(StdiolinkDriverHelper *helper, const char *meta, const char *message)
{
	g_autoptr(GError) error = NULL;

	g_assert_false(stdiolink_driver_helper_add_command(helper, meta, nothing_cb, NULL,
							   &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
	if (message != NULL)
		g_assert_cmpstr(error->message, ==, message);
}

static void
test_add_command_errors_func(void)
{
	g_autoptr(StdiolinkDriverHelper) helper = stdiolink_driver_helper_new("t", "T", "1");
	g_autoptr(GError) error = NULL;

	g_assert_true(stdiolink_driver_helper_add_command(helper, "{\"name\":\"a\"}", nothing_cb,
							  NULL, &error));
	g_assert_no_error(error);
	assert_add_fails(helper, "{\"name\":\"a\"}", "Duplicate command name: 'a'");
	assert_add_fails(helper, "{\"name\":\"\"}", "Command name cannot be empty");
	assert_add_fails(helper, "{\"description\":\"x\"}", "Command name cannot be empty");
	assert_add_fails(helper, "{\"name\":\"b\",\"params\":[{\"type\":\"int\"}]}",
			 "Parameter name cannot be empty in command 'b'");
	assert_add_fails(helper,
			 "{\"name\":\"b\",\"params\":[{\"name\":\"p\"},{\"name\":\"p\"}]}",
			 "Duplicate parameter 'p' in command 'b'");
	assert_add_fails(helper, "[]", "command meta must be a JSON object");
	assert_add_fails(helper, "{", NULL);
}

static void
test_get_meta_func(void)
{
	g_autoptr(StdiolinkDriverHelper) helper = stdiolink_driver_helper_new("t.id", "T", "2");
	g_autoptr(JsonNode) meta = NULL;
	g_autofree char *text = NULL;

	g_assert_true(stdiolink_driver_helper_add_command(
	    helper,
	    "{\"name\":\"go\",\"junk\":1,\"params\":[{\"name\":\"n\",\"type\":\"integer\"}]}",
	    nothing_cb, NULL, NULL));
	meta = stdiolink_driver_helper_get_meta(helper);
	text = stdiolink_json_to_string(meta, STDIOLINK_JSON_COMPACT);

	/* normalized like the daemon does: canonical type names, returns present, junk gone */
	g_assert_cmpstr(text, ==,
			"{\"commands\":[{\"name\":\"go\",\"params\":[{\"name\":\"n\","
			"\"type\":\"int\"}],\"returns\":{\"type\":\"object\"}}],"
			"\"info\":{\"id\":\"t.id\",\"name\":\"T\",\"profiles\":[\"oneshot\","
			"\"keepalive\"],\"version\":\"2\"},\"schemaVersion\":\"1.0\"}");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/driver-helper/meta-describe", test_meta_describe_func);
	g_test_add_func("/driver-helper/meta-unknown", test_meta_unknown_func);
	g_test_add_func("/driver-helper/validation", test_validation_func);
	g_test_add_func("/driver-helper/defaults", test_defaults_func);
	g_test_add_func("/driver-helper/oneshot", test_oneshot_func);
	g_test_add_func("/driver-helper/keepalive", test_keepalive_func);
	g_test_add_func("/driver-helper/invalid-lines", test_invalid_lines_func);
	g_test_add_func("/driver-helper/async-reply", test_async_reply_func);
	g_test_add_func("/driver-helper/heartbeat-events", test_heartbeat_events_func);
	g_test_add_func("/driver-helper/logging", test_logging_func);
	g_test_add_func("/driver-helper/console", test_console_func);
	g_test_add_func("/driver-helper/console-exit-codes", test_console_exit_codes_func);
	g_test_add_func("/driver-helper/argument-errors", test_argument_errors_func);
	g_test_add_func("/driver-helper/help-version", test_help_version_func);
	g_test_add_func("/driver-helper/export-meta-file", test_export_meta_file_func);
	g_test_add_func("/driver-helper/export-no-meta", test_export_no_meta_func);
	g_test_add_func("/driver-helper/export-doc", test_export_doc_func);
	g_test_add_func("/driver-helper/add-command-errors", test_add_command_errors_func);
	g_test_add_func("/driver-helper/get-meta", test_get_meta_func);
	return g_test_run();
}
