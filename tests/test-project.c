#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sl-test-utils.h"
#include "stdiolink.h"

/* helpers */

static JsonObject *
parse_object(const char *json)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = stdiolink_json_parse(json, -1, &error);

	g_assert_no_error(error);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_object_ref(json_node_get_object(node));
}

static char *
object_to_string(JsonObject *obj)
{
	return stdiolink_json_object_to_string(obj, STDIOLINK_JSON_COMPACT);
}

/* the names in @dir, sorted and joined with ',' */
static char *
list_dir(const char *path)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)) != NULL)
		g_ptr_array_add(names, g_strdup(name));
	stdiolink_sort_strings(names);
	g_ptr_array_add(names, NULL);
	return g_strjoinv(",", (char **)names->pdata);
}

static char *
fixture_root(const char *root)
{
	const char *fixtures = g_getenv("STDIOLINK_FIXTURES");

	g_assert_nonnull(fixtures);
	return g_build_filename(fixtures, "original-data-roots", root, NULL);
}

static char *
schedule_string(const StdiolinkSchedule *s)
{
	g_autoptr(JsonNode) node = stdiolink_schedule_to_json(s);

	return stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);
}

static char *
project_string(StdiolinkProject *p, guint live)
{
	g_autoptr(JsonNode) node = stdiolink_project_to_json(p, live);

	return stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);
}

static StdiolinkSchema *
schema_from_string(const char *json)
{
	g_autoptr(JsonObject) root = parse_object(json);
	g_autoptr(GError) error = NULL;
	StdiolinkSchema *schema = stdiolink_schema_new_from_json(root, &error);

	g_assert_no_error(error);
	return schema;
}

/* manifest id -> StdiolinkSchema of every service of a fixture data root */
static GHashTable *
load_fixture_schemas(const char *root)
{
	GHashTable *schemas = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						    (GDestroyNotify)stdiolink_schema_unref);
	g_autofree char *services = g_build_filename(root, "services", NULL);
	g_autoptr(GDir) dir = g_dir_open(services, 0, NULL);
	const char *name;

	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *service_dir = g_build_filename(services, name, NULL);
		g_autofree char *manifest_path = NULL;
		g_autofree char *manifest = NULL;
		g_autofree char *schema_path = NULL;
		g_autoptr(JsonObject) obj = NULL;
		g_autoptr(GError) error = NULL;
		StdiolinkSchema *schema;

		schema_path = g_build_filename(service_dir, "config.schema.json", NULL);
		if (!g_file_test(schema_path, G_FILE_TEST_EXISTS))
			continue;
		manifest_path = g_build_filename(service_dir, "manifest.json", NULL);
		manifest = sl_test_read_file(manifest_path);
		obj = parse_object(manifest);
		schema = stdiolink_schema_new_from_file(schema_path, &error);
		g_assert_no_error(error);
		g_hash_table_insert(schemas,
				    g_strdup(json_object_get_string_member(obj, "id")), schema);
	}
	return schemas;
}

static void
validate_with(StdiolinkProject *p, GHashTable *schemas)
{
	const char *service_id = stdiolink_project_get_service_id(p);
	StdiolinkSchema *schema = g_hash_table_lookup(schemas, service_id);

	stdiolink_project_validate(p, schema != NULL ? service_id : NULL, schema);
}

/* schedules (scheduling.md 2) */

typedef struct {
	const char *input;
	const char *expected; /* ScheduleJSON, when the input parses */
	const char *error;    /* the message, when it does not */
} ScheduleCase;

#define MANUAL "{\"runTimeoutMs\":0,\"type\":\"manual\"}"
#define FIXED(interval, max) \
	"{\"intervalMs\":" #interval ",\"maxConcurrent\":" #max \
	",\"runTimeoutMs\":0,\"type\":\"fixed_rate\"}"
#define DAEMON(delay, failures) \
	"{\"maxConsecutiveFailures\":" #failures ",\"restartDelayMs\":" #delay \
	",\"runTimeoutMs\":0,\"type\":\"daemon\"}"

static const ScheduleCase schedule_cases[] = {
	/* defaults per type */
	{"{}", MANUAL, NULL},
	{"{\"type\":\"manual\"}", MANUAL, NULL},
	{"{\"type\":\"fixed_rate\"}", FIXED(5000, 1), NULL},
	{"{\"type\":\"daemon\"}", DAEMON(3000, 5), NULL},

	/* runTimeoutMs: checked first and strictly */
	{"{\"runTimeoutMs\":0}", MANUAL, NULL},
	{"{\"runTimeoutMs\":250}", "{\"runTimeoutMs\":250,\"type\":\"manual\"}", NULL},
	{"{\"runTimeoutMs\":250.0}", "{\"runTimeoutMs\":250,\"type\":\"manual\"}", NULL},
	{"{\"runTimeoutMs\":2147483647}", "{\"runTimeoutMs\":2147483647,\"type\":\"manual\"}",
	 NULL},
	{"{\"runTimeoutMs\":2147483648}", NULL, "schedule.runTimeoutMs must be an integer >= 0"},
	{"{\"runTimeoutMs\":-1}", NULL, "schedule.runTimeoutMs must be an integer >= 0"},
	{"{\"runTimeoutMs\":1.5}", NULL, "schedule.runTimeoutMs must be an integer >= 0"},
	{"{\"runTimeoutMs\":\"5\"}", NULL, "schedule.runTimeoutMs must be an integer >= 0"},
	{"{\"runTimeoutMs\":null}", NULL, "schedule.runTimeoutMs must be an integer >= 0"},
	{"{\"runTimeoutMs\":true}", NULL, "schedule.runTimeoutMs must be an integer >= 0"},
	{"{\"runTimeoutMs\":-1,\"type\":\"bogus\"}", NULL,
	 "schedule.runTimeoutMs must be an integer >= 0"},
	{"{\"type\":\"daemon\",\"runTimeoutMs\":30000}",
	 "{\"maxConsecutiveFailures\":5,\"restartDelayMs\":3000,\"runTimeoutMs\":30000,"
	 "\"type\":\"daemon\"}", NULL},

	/* type: a non-string counts as manual, other strings are refused */
	{"{\"type\":5}", MANUAL, NULL},
	{"{\"type\":null}", MANUAL, NULL},
	{"{\"type\":[\"daemon\"]}", MANUAL, NULL},
	{"{\"type\":\"Manual\"}", NULL, "unknown schedule type: Manual"},
	{"{\"type\":\"\"}", NULL, "unknown schedule type: "},
	{"{\"type\":\"cron\"}", NULL, "unknown schedule type: cron"},

	/* fixed_rate: lenient reads, then the bounds */
	{"{\"type\":\"fixed_rate\",\"intervalMs\":\"50\"}", FIXED(5000, 1), NULL},
	{"{\"type\":\"fixed_rate\",\"intervalMs\":50.5}", FIXED(5000, 1), NULL},
	{"{\"type\":\"fixed_rate\",\"intervalMs\":null}", FIXED(5000, 1), NULL},
	{"{\"type\":\"fixed_rate\",\"intervalMs\":true}", FIXED(5000, 1), NULL},
	{"{\"type\":\"fixed_rate\",\"intervalMs\":3000000000}", FIXED(5000, 1), NULL},
	{"{\"type\":\"fixed_rate\",\"intervalMs\":-3000000000}", FIXED(5000, 1), NULL},
	{"{\"type\":\"fixed_rate\",\"intervalMs\":50}", NULL, "schedule.intervalMs must be >= 100"},
	{"{\"type\":\"fixed_rate\",\"intervalMs\":99}", NULL, "schedule.intervalMs must be >= 100"},
	{"{\"type\":\"fixed_rate\",\"intervalMs\":-5}", NULL, "schedule.intervalMs must be >= 100"},
	{"{\"type\":\"fixed_rate\",\"intervalMs\":100}", FIXED(100, 1), NULL},
	{"{\"type\":\"fixed_rate\",\"intervalMs\":100.0}", FIXED(100, 1), NULL},
	{"{\"type\":\"fixed_rate\",\"intervalMs\":2147483647}", FIXED(2147483647, 1), NULL},
	{"{\"type\":\"fixed_rate\",\"maxConcurrent\":0}", NULL,
	 "schedule.maxConcurrent must be >= 1"},
	{"{\"type\":\"fixed_rate\",\"maxConcurrent\":-1}", NULL,
	 "schedule.maxConcurrent must be >= 1"},
	{"{\"type\":\"fixed_rate\",\"maxConcurrent\":\"0\"}", FIXED(5000, 1), NULL},
	{"{\"type\":\"fixed_rate\",\"maxConcurrent\":0.5}", FIXED(5000, 1), NULL},
	{"{\"type\":\"fixed_rate\",\"maxConcurrent\":1}", FIXED(5000, 1), NULL},
	{"{\"type\":\"fixed_rate\",\"maxConcurrent\":64}", FIXED(5000, 64), NULL},
	{"{\"type\":\"fixed_rate\",\"intervalMs\":50,\"maxConcurrent\":0}", NULL,
	 "schedule.intervalMs must be >= 100"},

	/* daemon */
	{"{\"type\":\"daemon\",\"restartDelayMs\":0}", DAEMON(0, 5), NULL},
	{"{\"type\":\"daemon\",\"restartDelayMs\":-1}", NULL,
	 "schedule.restartDelayMs must be >= 0"},
	{"{\"type\":\"daemon\",\"restartDelayMs\":\"-1\"}", DAEMON(3000, 5), NULL},
	{"{\"type\":\"daemon\",\"restartDelayMs\":-0.5}", DAEMON(3000, 5), NULL},
	{"{\"type\":\"daemon\",\"maxConsecutiveFailures\":0}", NULL,
	 "schedule.maxConsecutiveFailures must be >= 1"},
	{"{\"type\":\"daemon\",\"maxConsecutiveFailures\":1}", DAEMON(3000, 1), NULL},
	{"{\"type\":\"daemon\",\"maxConsecutiveFailures\":{}}", DAEMON(3000, 5), NULL},
	{"{\"type\":\"daemon\",\"restartDelayMs\":-1,\"maxConsecutiveFailures\":0}", NULL,
	 "schedule.restartDelayMs must be >= 0"},

	/* unknown keys are ignored; keys of another type are neither checked nor kept */
	{"{\"type\":\"manual\",\"intervalMs\":50,\"foo\":1}", MANUAL, NULL},
	{"{\"type\":\"daemon\",\"intervalMs\":50,\"maxConcurrent\":0}", DAEMON(3000, 5), NULL},
	{"{\"type\":\"fixed_rate\",\"restartDelayMs\":-1,\"maxConsecutiveFailures\":0}",
	 FIXED(5000, 1), NULL},
};

static void
test_schedule_table_func(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(schedule_cases); i++) {
		const ScheduleCase *c = &schedule_cases[i];
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = stdiolink_json_parse(c->input, -1, NULL);
		StdiolinkSchedule s;
		gboolean ok;

		g_test_message("schedule %s", c->input);
		ok = stdiolink_schedule_parse(node, &s, &error);
		if (c->error != NULL) {
			g_assert_false(ok);
			g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
			g_assert_cmpstr(error->message, ==, c->error);
		} else {
			g_autofree char *out = NULL;

			g_assert_no_error(error);
			g_assert_true(ok);
			out = schedule_string(&s);
			g_assert_cmpstr(out, ==, c->expected);
		}
	}
}

static void
test_schedule_defaults_func(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) array = stdiolink_json_parse("[]", -1, NULL);
	g_autofree char *out = NULL;
	StdiolinkSchedule s;

	/* absent: manual with every default */
	g_assert_true(stdiolink_schedule_parse(NULL, &s, &error));
	g_assert_no_error(error);
	g_assert_cmpint(s.type, ==, STDIOLINK_SCHEDULE_MANUAL);
	g_assert_cmpint(s.run_timeout_ms, ==, 0);
	g_assert_cmpint(s.interval_ms, ==, 5000);
	g_assert_cmpint(s.max_concurrent, ==, 1);
	g_assert_cmpint(s.restart_delay_ms, ==, 3000);
	g_assert_cmpint(s.max_consecutive_failures, ==, 5);
	out = schedule_string(&s);
	g_assert_cmpstr(out, ==, MANUAL);

	g_assert_false(stdiolink_schedule_parse(array, &s, &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
	g_assert_cmpstr(error->message, ==, "project field 'schedule' must be an object");

	g_assert_cmpstr(stdiolink_schedule_type_to_string(STDIOLINK_SCHEDULE_MANUAL), ==,
			"manual");
	g_assert_cmpstr(stdiolink_schedule_type_to_string(STDIOLINK_SCHEDULE_FIXED_RATE), ==,
			"fixed_rate");
	g_assert_cmpstr(stdiolink_schedule_type_to_string(STDIOLINK_SCHEDULE_DAEMON), ==,
			"daemon");
}

static void
test_schedule_partial_func(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node =
		stdiolink_json_parse("{\"type\":\"fixed_rate\",\"intervalMs\":50}", -1, NULL);
	StdiolinkSchedule s;

	/* a failed parse keeps what it read, as the earlier server did */
	g_assert_false(stdiolink_schedule_parse(node, &s, &error));
	g_assert_cmpint(s.type, ==, STDIOLINK_SCHEDULE_FIXED_RATE);
	g_assert_cmpint(s.interval_ms, ==, 50);
}

/* the body parser (http-api.md 5.3) */

typedef struct {
	gboolean allow_config;
	const char *input;
	const char *error;
} BodyCase;

#define NS "\"name\":\"n\",\"serviceId\":\"s\""

static const BodyCase body_cases[] = {
	/* unknown keys first, the first in code-point order */
	{TRUE, "{\"zzz\":1,\"name\":5}", "unknown field in project config: zzz"},
	{TRUE, "{\"b\":1,\"a\":1," NS "}", "unknown field in project config: a"},
	{TRUE, "{\"Name\":\"x\"," NS "}", "unknown field in project config: Name"},
	{TRUE, "{\"id\":5,\"extra\":true}", "unknown field in project config: extra"},
	/* id */
	{TRUE, "{\"id\":5}", "project field 'id' must be a string"},
	{TRUE, "{\"id\":null," NS "}", "project field 'id' must be a string"},
	{TRUE, "{\"id\":\"p2\"," NS "}", "project id mismatch: body=p2, path=p1"},
	{TRUE, "{\"id\":\"P1\",\"name\":\"\"}", "project id mismatch: body=P1, path=p1"},
	/* name */
	{TRUE, "{}", "missing required string field: name"},
	{TRUE, "{\"id\":\"\"}", "missing required string field: name"},
	{TRUE, "{\"name\":5,\"serviceId\":5}", "missing required string field: name"},
	{TRUE, "{\"name\":null}", "missing required string field: name"},
	{TRUE, "{\"name\":\"\",\"serviceId\":5}", "project name cannot be empty"},
	/* serviceId */
	{TRUE, "{\"name\":\"n\"}", "missing required string field: serviceId"},
	{TRUE, "{\"name\":\"n\",\"serviceId\":[]}", "missing required string field: serviceId"},
	{TRUE, "{\"name\":\"n\",\"serviceId\":\"\",\"enabled\":1}",
	 "project serviceId cannot be empty"},
	/* enabled */
	{TRUE, "{" NS ",\"enabled\":\"true\",\"schedule\":1}",
	 "project field 'enabled' must be a bool"},
	{TRUE, "{" NS ",\"enabled\":1}", "project field 'enabled' must be a bool"},
	{TRUE, "{" NS ",\"enabled\":null}", "project field 'enabled' must be a bool"},
	/* schedule */
	{TRUE, "{" NS ",\"schedule\":[],\"config\":1}",
	 "project field 'schedule' must be an object"},
	{TRUE, "{" NS ",\"schedule\":null}", "project field 'schedule' must be an object"},
	{TRUE, "{" NS ",\"schedule\":{\"type\":\"x\"},\"config\":1}", "unknown schedule type: x"},
	{TRUE, "{" NS ",\"schedule\":{\"type\":\"fixed_rate\",\"intervalMs\":50}}",
	 "schedule.intervalMs must be >= 100"},
	/* config */
	{TRUE, "{" NS ",\"config\":[]}", "project field 'config' must be an object"},
	{TRUE, "{" NS ",\"config\":null}", "project field 'config' must be an object"},
	{TRUE, "{" NS ",\"config\":\"{}\"}", "project field 'config' must be an object"},
	/* config.json: `config` is refused before anything else */
	{FALSE, "{\"config\":{}," NS "}",
	 "project metadata file must not contain 'config'; move service parameters to param.json"},
	{FALSE, "{\"aaa\":1,\"config\":{}}",
	 "project metadata file must not contain 'config'; move service parameters to param.json"},
	{FALSE, "{\"aaa\":1," NS "}", "unknown field in project config: aaa"},
	{FALSE, "{\"id\":\"p2\"," NS "}", "project id mismatch: body=p2, path=p1"},
};

static void
test_body_table_func(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(body_cases); i++) {
		const BodyCase *c = &body_cases[i];
		g_autoptr(JsonObject) body = parse_object(c->input);
		g_autoptr(GError) error = NULL;
		g_autoptr(StdiolinkProject) p = NULL;

		g_test_message("body %s", c->input);
		p = stdiolink_project_new_from_json("p1", body, c->allow_config, &error);
		g_assert_null(p);
		g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
		g_assert_cmpstr(error->message, ==, c->error);
	}
}

static void
test_body_success_func(void)
{
	g_autoptr(JsonObject) minimal = parse_object("{\"id\":\"\"," NS "}");
	g_autoptr(JsonObject) full = parse_object(
		"{\"id\":\"p1\",\"name\":\"Project 1\",\"serviceId\":\"demo\",\"enabled\":false,"
		"\"schedule\":{\"type\":\"daemon\",\"restartDelayMs\":10,\"zzz\":1},"
		"\"config\":{\"port\":8080}}");
	g_autoptr(JsonObject) no_config = parse_object("{\"id\":\"p1\"," NS "}");
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkProject) p = NULL;
	g_autoptr(StdiolinkProject) q = NULL;
	g_autoptr(StdiolinkProject) r = NULL;
	g_autofree char *json = NULL;

	/* omitted fields take their defaults; an empty body id is allowed */
	p = stdiolink_project_new_from_json("p1", minimal, TRUE, &error);
	g_assert_no_error(error);
	json = project_string(p, 0);
	g_assert_cmpstr(json, ==,
			"{\"config\":{},\"enabled\":true,\"id\":\"p1\",\"instanceCount\":0,"
			"\"name\":\"n\",\"schedule\":" MANUAL ",\"serviceId\":\"s\","
			"\"status\":\"stopped\",\"valid\":true}");
	g_clear_pointer(&json, g_free);

	q = stdiolink_project_new_from_json("p1", full, TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(stdiolink_project_get_id(q), ==, "p1");
	g_assert_cmpstr(stdiolink_project_get_name(q), ==, "Project 1");
	g_assert_cmpstr(stdiolink_project_get_service_id(q), ==, "demo");
	g_assert_false(stdiolink_project_get_enabled(q));
	g_assert_true(stdiolink_project_get_valid(q));
	g_assert_null(stdiolink_project_get_error(q));
	g_assert_cmpint(stdiolink_project_get_schedule(q)->type, ==, STDIOLINK_SCHEDULE_DAEMON);
	g_assert_cmpint(stdiolink_project_get_schedule(q)->restart_delay_ms, ==, 10);
	json = object_to_string(stdiolink_project_get_config(q));
	g_assert_cmpstr(json, ==, "{\"port\":8080}");
	g_clear_pointer(&json, g_free);

	/* config.json without `config` parses too */
	r = stdiolink_project_new_from_json("p1", no_config, FALSE, &error);
	g_assert_no_error(error);
	json = object_to_string(stdiolink_project_get_config(r));
	g_assert_cmpstr(json, ==, "{}");
}

/* ProjectJSON, status, validation, copy */

static void
test_project_json_func(void)
{
	g_autoptr(JsonObject) body = parse_object("{" NS ",\"config\":{\"b\":0.1}}");
	g_autoptr(StdiolinkProject) p = stdiolink_project_new_from_json("p1", body, TRUE, NULL);
	g_autofree char *json = NULL;

	g_assert_cmpstr(stdiolink_project_status(p, 0), ==, "stopped");
	g_assert_cmpstr(stdiolink_project_status(p, 2), ==, "running");
	json = project_string(p, 2);
	g_assert_cmpstr(json, ==,
			"{\"config\":{\"b\":0.1},\"enabled\":true,\"id\":\"p1\","
			"\"instanceCount\":2,"
			"\"name\":\"n\",\"schedule\":" MANUAL ",\"serviceId\":\"s\","
			"\"status\":\"running\",\"valid\":true}");
	g_clear_pointer(&json, g_free);

	stdiolink_project_set_enabled(p, FALSE);
	g_assert_cmpstr(stdiolink_project_status(p, 2), ==, "disabled");

	/* invalid wins over everything; error appears only when set and non-empty */
	stdiolink_project_set_invalid(p, "service 's' has been deleted");
	g_assert_cmpstr(stdiolink_project_status(p, 2), ==, "invalid");
	json = project_string(p, 1);
	g_assert_cmpstr(json, ==,
			"{\"config\":{\"b\":0.1},\"enabled\":false,"
			"\"error\":\"service 's' has been deleted\",\"id\":\"p1\","
			"\"instanceCount\":1,\"name\":\"n\",\"schedule\":" MANUAL ","
			"\"serviceId\":\"s\",\"status\":\"invalid\",\"valid\":false}");
	g_clear_pointer(&json, g_free);

	stdiolink_project_set_invalid(p, "");
	json = project_string(p, 0);
	g_assert_null(strstr(json, "\"error\""));
}

static void
test_project_validate_func(void)
{
	g_autoptr(StdiolinkSchema) schema = schema_from_string(
		"{\"port\":{\"type\":\"int\",\"default\":80,\"constraints\":{\"max\":65535}},"
		"\"host\":{\"type\":\"string\",\"default\":\"localhost\"}}");
	g_autoptr(JsonObject) body = parse_object("{" NS "}");
	g_autoptr(JsonObject) bad = parse_object("{\"port\":70000}");
	g_autoptr(JsonObject) empty = json_object_new();
	g_autoptr(StdiolinkProject) p = stdiolink_project_new_from_json("p1", body, TRUE, NULL);
	g_autofree char *json = NULL;

	/* no service */
	stdiolink_project_validate(p, NULL, NULL);
	g_assert_false(stdiolink_project_get_valid(p));
	g_assert_cmpstr(stdiolink_project_get_error(p), ==, "service not found: s");
	json = object_to_string(stdiolink_project_get_config(p));
	g_assert_cmpstr(json, ==, "{}");
	g_clear_pointer(&json, g_free);

	/* success: defaults filled, error cleared */
	stdiolink_project_validate(p, "s", schema);
	g_assert_true(stdiolink_project_get_valid(p));
	g_assert_null(stdiolink_project_get_error(p));
	json = object_to_string(stdiolink_project_get_config(p));
	g_assert_cmpstr(json, ==, "{\"host\":\"localhost\",\"port\":80}");
	g_clear_pointer(&json, g_free);

	/* failure: the config stays as it was */
	stdiolink_project_set_config(p, bad);
	stdiolink_project_validate(p, "s", schema);
	g_assert_false(stdiolink_project_get_valid(p));
	g_assert_cmpstr(stdiolink_project_get_error(p), ==, "port: value 70000 > max 65535");
	json = object_to_string(stdiolink_project_get_config(p));
	g_assert_cmpstr(json, ==, "{\"port\":70000}");
	g_clear_pointer(&json, g_free);

	/* set_invalid (service deleted) is lifted by the next successful validation */
	stdiolink_project_set_config(p, empty);
	stdiolink_project_set_invalid(p, "service 's' has been deleted");
	stdiolink_project_validate(p, "s", schema);
	g_assert_true(stdiolink_project_get_valid(p));
	g_assert_null(stdiolink_project_get_error(p));
}

static void
test_project_copy_func(void)
{
	g_autoptr(JsonObject) body = parse_object(
		"{" NS ",\"schedule\":{\"type\":\"fixed_rate\"},\"config\":{\"a\":1}}");
	g_autoptr(JsonObject) other = parse_object("{\"b\":2}");
	g_autoptr(StdiolinkProject) p = stdiolink_project_new_from_json("p1", body, TRUE, NULL);
	g_autoptr(StdiolinkProject) copy = NULL;
	g_autofree char *before = NULL;
	g_autofree char *copied = NULL;
	g_autofree char *after = NULL;

	stdiolink_project_set_invalid(p, "why");
	before = project_string(p, 0);
	copy = stdiolink_project_copy(p);
	copied = project_string(copy, 0);
	g_assert_cmpstr(copied, ==, before);

	stdiolink_project_set_enabled(copy, FALSE);
	stdiolink_project_set_config(copy, other);
	stdiolink_project_set_invalid(copy, "other");
	after = project_string(p, 0);
	g_assert_cmpstr(after, ==, before);
}

/* every project of the fixture data roots, validated against the services of its root */

typedef struct {
	const char *root;
	const char *id;
	const char *error;    /* NULL: valid */
	const char *schedule; /* ScheduleJSON */
	const char *filled;   /* the config after validation, if checked */
} FixtureCase;

/*
 * Worked out by hand from the files and schema.md 5: every project's param.json holds only
 * declared keys of the right types within their constraints; top-level "enum" lists
 * (modbus baud_rate, stop_bits, parity, event_mode; opcua node_class, data_type, access)
 * are ignored; `type: enum` fields (plc_crane_sim event_mode, multi_device log_level and
 * driver, quick_start mode) hold allowed values; array items (cranes, nodes, devices) are
 * validated but never filled. So all 19 are valid, and only projects missing optional
 * fields get defaults added.
 */
static const FixtureCase fixture_cases[] = {
	{"data_root", "bin_scan_orchestrator", NULL, FIXED(60000, 1), NULL},
	{"data_root", "exec_runner_daemon_template", NULL, DAEMON(5000, 3),
	 "{\"args\":[\"--serve\"],\"cwd\":\"\",\"env\":{},\"log_stderr\":true,"
	 "\"log_stdout\":true,\"program\":\"your_long_running_program\","
	 "\"success_exit_codes\":[0]}"},
	{"data_root", "exec_runner_task_template", NULL,
	 "{\"intervalMs\":60000,\"maxConcurrent\":1,\"runTimeoutMs\":30000,"
	 "\"type\":\"fixed_rate\"}",
	 "{\"args\":[\"--do-work\"],\"cwd\":\"\",\"env\":{},\"log_stderr\":true,"
	 "\"log_stdout\":true,\"program\":\"your_program\",\"success_exit_codes\":[0]}"},
	{"data_root", "modbusrtu_serial_server", NULL, MANUAL, NULL},
	{"data_root", "modbusrtu_server", NULL, MANUAL,
	 "{\"data_area_size\":10000,\"event_mode\":\"write\",\"listen_port\":5020,"
	 "\"unit_ids\":\"1\"}"},
	{"data_root", "modbustcp_server", NULL, MANUAL, NULL},
	{"data_root", "opcua_server", NULL, DAEMON(5000, 3), NULL},
	{"data_root", "plc_crane_sim_1", NULL, MANUAL, NULL},
	{"data_root", "plc_crane_sim_2", NULL, MANUAL, NULL},
	{"demo_server_manager_demo_data_root", "daemon_demo", NULL, DAEMON(500, 3), NULL},
	{"demo_server_manager_demo_data_root", "daemon_health_check", NULL, DAEMON(5000, 10),
	 NULL},
	{"demo_server_manager_demo_data_root", "daemon_multi_device", NULL, DAEMON(3000, 5),
	 NULL},
	{"demo_server_manager_demo_data_root", "fixed_rate_demo", NULL, FIXED(2000, 2), NULL},
	{"demo_server_manager_demo_data_root", "fixed_rate_health_check", NULL,
	 FIXED(10000, 1),
	 "{\"baseUrl\":\"http://127.0.0.1:6200\",\"checkDrivers\":true,\"intervalMs\":10000,"
	 "\"loop\":false,\"timeoutMs\":5000}"},
	{"demo_server_manager_demo_data_root", "manual_demo", NULL, MANUAL, NULL},
	{"demo_server_manager_demo_data_root", "manual_driver_pipeline", NULL, MANUAL,
	 "{\"iterations\":3,\"outputDir\":\"./output\"}"},
	{"demo_server_manager_demo_data_root", "manual_multi_device", NULL, MANUAL, NULL},
	{"demo_server_manager_demo_data_root", "manual_process_exec", NULL, MANUAL, NULL},
	{"demo_server_manager_demo_data_root", "manual_system_info", NULL, MANUAL, NULL},
};

static const FixtureCase *
find_fixture_case(const char *root, const char *id)
{
	for (guint i = 0; i < G_N_ELEMENTS(fixture_cases); i++) {
		const FixtureCase *c = &fixture_cases[i];

		if (g_str_equal(c->root, root) && g_str_equal(c->id, id))
			return c;
	}
	return NULL;
}

static void
check_fixture_project(const char *root_name, StdiolinkProject *p, GHashTable *schemas)
{
	const char *id = stdiolink_project_get_id(p);
	const FixtureCase *c = find_fixture_case(root_name, id);
	g_autofree char *schedule = NULL;

	g_test_message("fixture project %s/%s", root_name, id);
	g_assert_nonnull(c);

	/* loaded without error: valid until checked against its service */
	g_assert_true(stdiolink_project_get_valid(p));
	g_assert_null(stdiolink_project_get_error(p));
	g_assert_false(stdiolink_project_get_enabled(p));
	schedule = schedule_string(stdiolink_project_get_schedule(p));
	g_assert_cmpstr(schedule, ==, c->schedule);

	validate_with(p, schemas);
	g_assert_cmpstr(stdiolink_project_get_error(p), ==, c->error);
	g_assert_true(stdiolink_project_get_valid(p) == (c->error == NULL));
	g_assert_cmpstr(stdiolink_project_status(p, 0), ==,
			c->error == NULL ? "disabled" : "invalid");
	if (c->filled != NULL) {
		g_autofree char *config = object_to_string(stdiolink_project_get_config(p));

		g_assert_cmpstr(config, ==, c->filled);
	}
}

/* saves @p into @projects_dir and loads it back: the same project, files re-read equal */
static void
check_fixture_roundtrip(StdiolinkProject *p, const char *projects_dir, GHashTable *schemas)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkProject) again = NULL;
	g_autofree char *before = project_string(p, 0);
	g_autofree char *after = NULL;

	g_assert_true(stdiolink_project_save(p, projects_dir, &error));
	g_assert_no_error(error);
	again = stdiolink_project_load(projects_dir, stdiolink_project_get_id(p));
	validate_with(again, schemas);
	after = project_string(again, 0);
	g_assert_cmpstr(after, ==, before);
}

static guint
check_fixture_root(const char *root_name, const char *tmp)
{
	g_autofree char *root = fixture_root(root_name);
	g_autofree char *src = g_build_filename(root, "projects", NULL);
	g_autofree char *dst = g_build_filename(tmp, root_name, "projects", NULL);
	g_autofree char *saved = g_build_filename(tmp, root_name, "saved", NULL);
	g_autoptr(GHashTable) schemas = load_fixture_schemas(root);
	g_autoptr(GPtrArray) projects = NULL;

	sl_test_copy_tree(src, dst);
	projects = stdiolink_project_load_all(dst);
	for (guint i = 0; i < projects->len; i++) {
		StdiolinkProject *p = g_ptr_array_index(projects, i);

		if (i > 0) {
			StdiolinkProject *prev = g_ptr_array_index(projects, i - 1);

			g_assert_cmpint(strcmp(stdiolink_project_get_id(prev),
					       stdiolink_project_get_id(p)), <, 0);
		}
		check_fixture_project(root_name, p, schemas);
		check_fixture_roundtrip(p, saved, schemas);
	}
	return projects->len;
}

static void
test_fixture_projects_func(void)
{
	g_autofree char *all = fixture_root("");
	g_autofree char *tmp = sl_test_make_tmp_dir("test-project-XXXXXX");
	g_autoptr(GDir) dir = g_dir_open(all, 0, NULL);
	const char *name;
	guint total = 0;

	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *projects = g_build_filename(all, name, "projects", NULL);

		if (g_file_test(projects, G_FILE_TEST_IS_DIR))
			total += check_fixture_root(name, tmp);
	}
	/* every expectation was met by a loaded project */
	g_assert_cmpuint(total, ==, G_N_ELEMENTS(fixture_cases));
	g_assert_true(sl_test_remove_tree(tmp));
}

/* fixture services with configs changed by hand: each error as schema.md 5 derives it */

typedef struct {
	const char *root;
	const char *service;
	const char *config;
	const char *error; /* NULL: valid */
} VariantCase;

#define VESSEL \
	"\"vessel_id\":1,\"vision\":{\"addr\":\"a:1\",\"user_name\":\"u\",\"password\":\"p\"}"

static const VariantCase variant_cases[] = {
	{"data_root", "nope", "{}", "service not found: nope"},
	/* required, no default */
	{"data_root", "exec_runner", "{}", "program: required field 'program' is missing"},
	{"data_root", "exec_runner", "{\"program\":\"\"}", "program: string too short"},
	{"data_root", "exec_runner", "{\"program\":\"x\",\"args\":[\"a\",1]}",
	 "args[1]: expected string"},
	/* required fields are checked in schema-file order (DESIGN.md): vessel_id first */
	{"data_root", "bin_scan_orchestrator", "{}",
	 "vessel_id: required field 'vessel_id' is missing"},
	/* filling creates vision, whose required children then fail */
	{"data_root", "bin_scan_orchestrator",
	 "{\"vessel_id\":1,\"cranes\":[{\"id\":\"a\",\"host\":\"h\"}]}",
	 "vision.addr: required field missing"},
	{"data_root", "bin_scan_orchestrator",
	 "{" VESSEL ",\"cranes\":[{\"id\":\"a\",\"host\":\"h\",\"port\":0}]}",
	 "cranes[0]: value 0 < min 1"},
	{"data_root", "bin_scan_orchestrator",
	 "{" VESSEL ",\"cranes\":[{\"id\":\"a\",\"host\":\"h\",\"zz\":1}]}",
	 "cranes[0].zz: unknown configuration field"},
	{"data_root", "bin_scan_orchestrator", "{" VESSEL ",\"cranes\":[]}",
	 "cranes: array too short"},
	{"data_root", "bin_scan_orchestrator",
	 "{" VESSEL ",\"cranes\":[{\"id\":\"a\",\"host\":\"h\"}]}", NULL},
	/* constraints and the ignored top-level enum */
	{"data_root", "modbustcp_server_service", "{\"listen_port\":70000}",
	 "listen_port: value 70000 > max 65535"},
	{"data_root", "modbusrtu_serial_server_service", "{\"baud_rate\":1234,\"parity\":\"x\"}",
	 NULL},
	{"data_root", "plc_crane_sim", "{\"event_mode\":\"sometimes\"}",
	 "event_mode: invalid enum value"},
	{"data_root", "plc_crane_sim", "{\"data_area_size\":31}",
	 "data_area_size: value 31 < min 32"},
	{"demo_server_manager_demo_data_root", "multi_device_service", "{}",
	 "devices: required field 'devices' is missing"},
	{"demo_server_manager_demo_data_root", "multi_device_service", "{\"devices\":[]}",
	 "devices: array too short"},
	{"demo_server_manager_demo_data_root", "quick_start_service", "{\"runMs\":1.5}",
	 "runMs: expected integer, got decimal"},
	{"demo_server_manager_demo_data_root", "quick_start_service", "{\"extra\":1}",
	 "extra: unknown configuration field"},
	{"demo_server_manager_demo_data_root", "api_health_check_service", "{\"timeoutMs\":999}",
	 "timeoutMs: value 999 < min 1000"},
};

static void
test_fixture_variants_func(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(variant_cases); i++) {
		const VariantCase *c = &variant_cases[i];
		g_autofree char *root = fixture_root(c->root);
		g_autoptr(GHashTable) schemas = load_fixture_schemas(root);
		g_autofree char *json = g_strdup_printf(
			"{\"name\":\"v\",\"serviceId\":\"%s\",\"config\":%s}", c->service,
			c->config);
		g_autoptr(JsonObject) body = parse_object(json);
		g_autoptr(GError) error = NULL;
		g_autoptr(StdiolinkProject) p = NULL;

		g_test_message("variant %s %s", c->service, c->config);
		p = stdiolink_project_new_from_json("v", body, TRUE, &error);
		g_assert_no_error(error);
		validate_with(p, schemas);
		g_assert_cmpstr(stdiolink_project_get_error(p), ==, c->error);
		g_assert_true(stdiolink_project_get_valid(p) == (c->error == NULL));
	}
}

/* load errors (data-root.md 6.3) */

typedef struct {
	const char *config; /* NULL: no config.json */
	const char *param;  /* NULL: no param.json */
	const char *error;  /* a prefix when it ends with ": " */
	const char *name;
	const char *service_id;
	gboolean enabled;
} LoadCase;

static const LoadCase load_cases[] = {
	{NULL, "{}", "cannot open project config file: ", "", "", TRUE},
	{"{\"name\":", NULL, "project config file parse error: ", "", "", TRUE},
	{"", NULL, "project config file parse error: ", "", "", TRUE},
	{"[1]", NULL, "project config file must contain a JSON object", "", "", TRUE},
	{"\"x\"", NULL, "project config file must contain a JSON object", "", "", TRUE},
	{"{\"name\":\"n\",\"serviceId\":\"s\",\"config\":{}}", NULL,
	 "project metadata file must not contain 'config'; move service parameters to param.json",
	 "", "", TRUE},
	{"{\"name\":\"n\",\"serviceId\":\"s\",\"extra\":1}", NULL,
	 "unknown field in project config: extra", "", "", TRUE},
	{"{\"id\":\"other\",\"name\":\"n\",\"serviceId\":\"s\"}", NULL,
	 "project id mismatch: body=other, path=p1", "", "", TRUE},
	/* fields parsed before the error are kept */
	{"{\"name\":\"n\",\"serviceId\":\"\"}", NULL, "project serviceId cannot be empty", "n", "",
	 TRUE},
	{"{\"name\":\"n\",\"serviceId\":\"s\",\"enabled\":false,\"schedule\":{\"type\":\"bogus\"}}",
	 NULL, "unknown schedule type: bogus", "n", "s", FALSE},
	/* param.json errors keep every metadata field */
	{"{\"name\":\"n\",\"serviceId\":\"s\",\"enabled\":false}", "{\"a\":",
	 "project param file parse error: ", "n", "s", FALSE},
	{"{\"name\":\"n\",\"serviceId\":\"s\"}", "", "project param file parse error: ", "n", "s",
	 TRUE},
	{"{\"name\":\"n\",\"serviceId\":\"s\"}", "[{}]",
	 "project param file must contain a JSON object", "n", "s", TRUE},
	{"{\"name\":\"n\",\"serviceId\":\"s\"}", "null",
	 "project param file must contain a JSON object", "n", "s", TRUE},
};

static void
check_load_error(const char *actual, const char *expected, const char *dir)
{
	g_assert_nonnull(actual);
	if (g_str_equal(expected, "cannot open project config file: ")) {
		g_autofree char *full = g_strconcat(expected, dir, "/config.json", NULL);

		g_assert_cmpstr(actual, ==, full);
	} else if (g_str_has_suffix(expected, ": ")) {
		g_assert_true(g_str_has_prefix(actual, expected));
		g_assert_cmpuint(strlen(actual), >, strlen(expected));
	} else {
		g_assert_cmpstr(actual, ==, expected);
	}
}

static void
test_load_errors_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("test-project-XXXXXX");
	g_autoptr(StdiolinkSchema) schema = schema_from_string("{}");

	for (guint i = 0; i < G_N_ELEMENTS(load_cases); i++) {
		const LoadCase *c = &load_cases[i];
		g_autofree char *dir = sl_test_make_dir(tmp, "p1");
		g_autoptr(StdiolinkProject) p = NULL;
		g_autofree char *json = NULL;

		g_test_message("load config=%s param=%s", c->config, c->param);
		if (c->config != NULL)
			sl_test_write_file(dir, "config.json", c->config, 0644);
		if (c->param != NULL)
			sl_test_write_file(dir, "param.json", c->param, 0644);

		p = stdiolink_project_load(tmp, "p1");
		g_assert_nonnull(p);
		g_assert_false(stdiolink_project_get_valid(p));
		check_load_error(stdiolink_project_get_error(p), c->error, dir);
		g_assert_cmpstr(stdiolink_project_get_id(p), ==, "p1");
		g_assert_cmpstr(stdiolink_project_get_name(p), ==, c->name);
		g_assert_cmpstr(stdiolink_project_get_service_id(p), ==, c->service_id);
		g_assert_true(stdiolink_project_get_enabled(p) == c->enabled);
		json = object_to_string(stdiolink_project_get_config(p));
		g_assert_cmpstr(json, ==, "{}");
		g_assert_cmpstr(stdiolink_project_status(p, 0), ==, "invalid");

		g_assert_true(stdiolink_project_is_load_error(p));

		/* a load error is not validated away, even when the service exists */
		stdiolink_project_validate(p, "s", schema);
		g_assert_false(stdiolink_project_get_valid(p));
		check_load_error(stdiolink_project_get_error(p), c->error, dir);

		g_assert_true(sl_test_remove_tree(dir));
	}
	g_assert_true(sl_test_remove_tree(tmp));
}

static void
test_load_param_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("test-project-XXXXXX");
	g_autofree char *dir = sl_test_make_dir(tmp, "p1");
	g_autofree char *param_dir = NULL;
	g_autofree char *expected = NULL;
	g_autoptr(StdiolinkProject) p = NULL;
	g_autoptr(StdiolinkProject) q = NULL;
	g_autoptr(StdiolinkProject) r = NULL;
	g_autofree char *json = NULL;

	/* no param.json: the empty config, and the project is valid */
	sl_test_write_file(dir, "config.json", "{\"id\":\"p1\",\"name\":\"n\",\"serviceId\":\"s\"}",
			   0644);
	p = stdiolink_project_load(tmp, "p1");
	g_assert_true(stdiolink_project_get_valid(p));
	g_assert_null(stdiolink_project_get_error(p));
	g_assert_false(stdiolink_project_is_load_error(p));
	json = object_to_string(stdiolink_project_get_config(p));
	g_assert_cmpstr(json, ==, "{}");
	g_clear_pointer(&json, g_free);

	/* stray temp and backup files are ignored */
	sl_test_write_file(dir, "param.json", "{\"a\":[1,2.5,\"x\"]}", 0644);
	sl_test_write_file(dir, "config.json.abcdef.tmp", "junk", 0644);
	sl_test_write_file(dir, "param.json.bak.0000", "junk", 0644);
	q = stdiolink_project_load(tmp, "p1");
	g_assert_true(stdiolink_project_get_valid(q));
	json = object_to_string(stdiolink_project_get_config(q));
	g_assert_cmpstr(json, ==, "{\"a\":[1,2.5,\"x\"]}");

	/* a param.json that cannot be read (a folder) */
	param_dir = g_build_filename(dir, "param.json", NULL);
	g_assert_cmpint(g_unlink(param_dir), ==, 0);
	g_assert_cmpint(g_mkdir(param_dir, 0755), ==, 0);
	r = stdiolink_project_load(tmp, "p1");
	g_assert_false(stdiolink_project_get_valid(r));
	expected = g_strconcat("cannot open project param file: ", param_dir, NULL);
	g_assert_cmpstr(stdiolink_project_get_error(r), ==, expected);
	g_assert_cmpstr(stdiolink_project_get_name(r), ==, "n");

	g_assert_true(sl_test_remove_tree(tmp));
}

static void
test_load_all_func(void)
{
	static const char *const dirs[] = {
		".hidden", "bad id", "bad.id", "ok_1", "A-b", "zz", "-", "_9",
	};
	g_autofree char *tmp = sl_test_make_tmp_dir("test-project-XXXXXX");
	g_autofree char *missing = g_build_filename(tmp, "missing", NULL);
	g_autoptr(GPtrArray) none = stdiolink_project_load_all(missing);
	g_autoptr(GPtrArray) projects = NULL;
	g_autoptr(StdiolinkProject) bad = NULL;
	GString *ids = g_string_new(NULL);
	g_autofree char *joined = NULL;

	g_assert_cmpuint(none->len, ==, 0);

	for (guint i = 0; i < G_N_ELEMENTS(dirs); i++) {
		g_autofree char *dir = sl_test_make_dir(tmp, dirs[i]);

		/* zz has no config.json and is listed as invalid */
		if (!g_str_equal(dirs[i], "zz"))
			sl_test_write_file(dir, "config.json",
					   "{\"name\":\"n\",\"serviceId\":\"s\"}", 0644);
	}
	sl_test_write_file(tmp, "file.json", "{\"name\":\"n\",\"serviceId\":\"s\"}", 0644);
	sl_test_write_file(tmp, "plain", "", 0644);

	projects = stdiolink_project_load_all(tmp);
	for (guint i = 0; i < projects->len; i++) {
		StdiolinkProject *p = g_ptr_array_index(projects, i);

		g_string_append_printf(ids, "%s%s:%d", i > 0 ? "," : "",
				       stdiolink_project_get_id(p), stdiolink_project_get_valid(p));
	}
	joined = g_string_free(ids, FALSE);
	g_assert_cmpstr(joined, ==, "-:1,A-b:1,_9:1,ok_1:1,zz:0");

	/* a single load of a name that is not a project id touches no file */
	bad = stdiolink_project_load(tmp, "../ok_1");
	g_assert_false(stdiolink_project_get_valid(bad));
	g_assert_cmpstr(stdiolink_project_get_error(bad), ==, "invalid project id: ../ok_1");

	g_assert_true(sl_test_remove_tree(tmp));
}

/* saving (data-root.md 6.4) */

static const char expected_metadata[] =
	"{\n"
	"    \"enabled\": false,\n"
	"    \"id\": \"p1\",\n"
	"    \"name\": \"Project 1\",\n"
	"    \"schedule\": {\n"
	"        \"intervalMs\": 1000,\n"
	"        \"maxConcurrent\": 2,\n"
	"        \"runTimeoutMs\": 0,\n"
	"        \"type\": \"fixed_rate\"\n"
	"    },\n"
	"    \"serviceId\": \"demo\"\n"
	"}\n";

static const char expected_params[] =
	"{\n"
	"    \"a\": [\n"
	"        1,\n"
	"        0.1\n"
	"    ],\n"
	"    \"b\": \"\xc3\xa9/\"\n"
	"}\n";

static StdiolinkProject *
make_saved_project(void)
{
	g_autoptr(JsonObject) body = parse_object(
		"{\"name\":\"Project 1\",\"serviceId\":\"demo\",\"enabled\":false,"
		"\"schedule\":{\"type\":\"fixed_rate\",\"intervalMs\":1000,\"maxConcurrent\":2,"
		"\"restartDelayMs\":5},"
		"\"config\":{\"b\":\"\\u00e9/\",\"a\":[1,0.1]}}");
	g_autoptr(GError) error = NULL;
	StdiolinkProject *p = stdiolink_project_new_from_json("p1", body, TRUE, &error);

	g_assert_no_error(error);
	return p;
}

static void
assert_mode_0600(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	GStatBuf st;

	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
}

static void
assert_pair(const char *dir, const char *metadata, const char *params)
{
	g_autofree char *names = list_dir(dir);
	g_autofree char *m_path = g_build_filename(dir, "config.json", NULL);
	g_autofree char *p_path = g_build_filename(dir, "param.json", NULL);
	g_autofree char *m = sl_test_read_file(m_path);
	g_autofree char *p = sl_test_read_file(p_path);

	/* nothing else: no temp or backup left behind */
	g_assert_cmpstr(names, ==, "config.json,param.json");
	g_assert_cmpstr(m, ==, metadata);
	g_assert_cmpstr(p, ==, params);
}

static void
test_save_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("test-project-XXXXXX");
	g_autofree char *projects_dir = g_build_filename(tmp, "deep", "projects", NULL);
	g_autofree char *dir = g_build_filename(projects_dir, "p1", NULL);
	g_autofree char *metadata_path = g_build_filename(dir, "config.json", NULL);
	g_autoptr(StdiolinkProject) p = make_saved_project();
	g_autoptr(StdiolinkProject) loaded = NULL;
	g_autoptr(JsonObject) other = parse_object("{\"x\":true}");
	g_autoptr(GError) error = NULL;
	g_autofree char *before = NULL;
	g_autofree char *after = NULL;
	g_autofree char *metadata = NULL;
	mode_t old_umask;

	/* a restrictive umask does not change the mode; missing folders are created */
	old_umask = umask(0077);
	g_assert_true(stdiolink_project_save(p, projects_dir, &error));
	umask(old_umask);
	g_assert_no_error(error);
	assert_pair(dir, expected_metadata, expected_params);
	assert_mode_0600(dir, "config.json");
	assert_mode_0600(dir, "param.json");

	/* round trip */
	loaded = stdiolink_project_load(projects_dir, "p1");
	before = project_string(p, 0);
	after = project_string(loaded, 0);
	g_assert_cmpstr(after, ==, before);

	/* saving again replaces both files */
	stdiolink_project_set_enabled(p, TRUE);
	stdiolink_project_set_config(p, other);
	g_assert_true(stdiolink_project_save(p, projects_dir, &error));
	g_assert_no_error(error);
	metadata = sl_test_read_file(metadata_path);
	g_assert_nonnull(strstr(metadata, "\"enabled\": true,"));
	assert_pair(dir, metadata, "{\n    \"x\": true\n}\n");
	assert_mode_0600(dir, "param.json");

	g_assert_true(sl_test_remove_tree(tmp));
}

static void
test_save_errors_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("test-project-XXXXXX");
	g_autofree char *file = g_build_filename(tmp, "file", NULL);
	g_autofree char *projects_dir = sl_test_make_dir(tmp, "projects");
	g_autofree char *expected = NULL;
	g_autoptr(JsonObject) body = parse_object("{\"name\":\"n\",\"serviceId\":\"s\"}");
	g_autoptr(StdiolinkProject) bad_id = NULL;
	g_autoptr(StdiolinkProject) p = make_saved_project();
	g_autoptr(GError) error = NULL;

	bad_id = stdiolink_project_new_from_json("bad id", body, TRUE, &error);
	g_assert_no_error(error);
	g_assert_false(stdiolink_project_save(bad_id, projects_dir, &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
	g_assert_cmpstr(error->message, ==, "invalid project id: bad id");
	g_clear_error(&error);

	/* the projects folder is a file */
	sl_test_write_file(tmp, "file", "", 0644);
	g_assert_false(stdiolink_project_save(p, file, &error));
	expected = g_strconcat("cannot create projects directory: ", file, NULL);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL);
	g_assert_cmpstr(error->message, ==, expected);
	g_clear_error(&error);
	g_clear_pointer(&expected, g_free);

	/* the project folder is a file */
	sl_test_write_file(projects_dir, "p1", "", 0644);
	g_assert_false(stdiolink_project_save(p, projects_dir, &error));
	expected = g_strconcat("cannot create project directory: ", projects_dir, "/p1", NULL);
	g_assert_cmpstr(error->message, ==, expected);
	g_clear_error(&error);

	g_assert_true(sl_test_remove_tree(tmp));
}

/* a failed save leaves the old pair exactly as it was */

static void
save_old_pair(const char *projects_dir, const char *dir)
{
	g_autoptr(StdiolinkProject) p = make_saved_project();
	g_autoptr(GError) error = NULL;

	g_assert_true(stdiolink_project_save(p, projects_dir, &error));
	g_assert_no_error(error);
	assert_pair(dir, expected_metadata, expected_params);
}

static StdiolinkProject *
make_changed_project(void)
{
	g_autoptr(JsonObject) body = parse_object(
		"{\"name\":\"Changed\",\"serviceId\":\"other\",\"config\":{\"big\":\""
		"0123456789012345678901234567890123456789012345678901234567890123456789\"}}");

	return stdiolink_project_new_from_json("p1", body, TRUE, NULL);
}

static void
test_save_readonly_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("test-project-XXXXXX");
	g_autofree char *projects_dir = g_build_filename(tmp, "projects", NULL);
	g_autofree char *dir = g_build_filename(projects_dir, "p1", NULL);
	g_autoptr(StdiolinkProject) changed = make_changed_project();
	g_autoptr(GError) error = NULL;
	g_autofree char *expected = NULL;
	struct rlimit old_limit;
	struct rlimit small;
	gboolean ok;

	save_old_pair(projects_dir, dir);

	/* a read-only project folder (root writes anyway, so only checked for others) */
	g_assert_cmpint(g_chmod(dir, 0555), ==, 0);
	if (access(dir, W_OK) != 0) {
		g_assert_false(stdiolink_project_save(changed, projects_dir, &error));
		expected = g_strconcat("cannot create temp file for: ", dir, "/config.json", NULL);
		g_assert_cmpstr(error->message, ==, expected);
		g_clear_error(&error);
		g_clear_pointer(&expected, g_free);
	} else {
		g_test_message("running as root: read-only folder not enforced, skipped");
	}
	g_assert_cmpint(g_chmod(dir, 0755), ==, 0);
	assert_pair(dir, expected_metadata, expected_params);

	/* writes that fail half-way (file size limit, which binds root too) */
	g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &old_limit), ==, 0);
	small = old_limit;
	small.rlim_cur = 16;
	signal(SIGXFSZ, SIG_IGN);
	g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &small), ==, 0);
	ok = stdiolink_project_save(changed, projects_dir, &error);
	g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &old_limit), ==, 0);
	signal(SIGXFSZ, SIG_DFL);

	g_assert_false(ok);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL);
	expected = g_strconcat("write failed (incomplete): ", dir, "/config.json", NULL);
	g_assert_cmpstr(error->message, ==, expected);
	assert_pair(dir, expected_metadata, expected_params);

	g_assert_true(sl_test_remove_tree(tmp));
}

static void
test_save_rollback_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("test-project-XXXXXX");
	g_autofree char *projects_dir = g_build_filename(tmp, "projects", NULL);
	g_autofree char *dir = g_build_filename(projects_dir, "p1", NULL);
	g_autofree char *metadata_path = g_build_filename(dir, "config.json", NULL);
	g_autofree char *param = NULL;
	g_autofree char *expected = NULL;
	g_autofree char *metadata = NULL;
	g_autofree char *names = NULL;
	g_autoptr(StdiolinkProject) changed = make_changed_project();
	g_autoptr(GError) error = NULL;

	save_old_pair(projects_dir, dir);

	/*
	 * param.json is replaced by a folder: config.json is backed up first, then the backup
	 * of param.json fails; the transaction must undo the first backup and its temps
	 */
	param = g_build_filename(dir, "param.json", NULL);
	g_assert_cmpint(g_unlink(param), ==, 0);
	g_assert_cmpint(g_mkdir(param, 0755), ==, 0);
	sl_test_write_file(param, "inside", "x", 0644);

	g_assert_false(stdiolink_project_save(changed, projects_dir, &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL);
	expected = g_strconcat("cannot backup file: ", param, NULL);
	g_assert_cmpstr(error->message, ==, expected);

	names = list_dir(dir);
	g_assert_cmpstr(names, ==, "config.json,param.json");
	metadata = sl_test_read_file(metadata_path);
	g_assert_cmpstr(metadata, ==, expected_metadata);
	g_assert_true(g_file_test(param, G_FILE_TEST_IS_DIR));

	g_assert_true(sl_test_remove_tree(tmp));
}

/* remove */

static void
test_remove_func(void)
{
	g_autofree char *tmp = sl_test_make_tmp_dir("test-project-XXXXXX");
	g_autofree char *outside = sl_test_make_dir(tmp, "outside");
	g_autofree char *projects_dir = sl_test_make_dir(tmp, "projects");
	g_autofree char *dir = sl_test_make_dir(projects_dir, "p1");
	g_autofree char *nested = sl_test_make_dir(dir, "sub/deeper");
	g_autofree char *link = g_build_filename(dir, "link", NULL);
	g_autofree char *keep = g_build_filename(outside, "keep", NULL);
	g_autoptr(GError) error = NULL;

	sl_test_write_file(dir, "config.json", "{}", 0644);
	sl_test_write_file(nested, "f", "x", 0644);
	sl_test_write_file(outside, "keep", "x", 0644);
	g_assert_cmpint(symlink(outside, link), ==, 0);

	g_assert_true(stdiolink_project_remove(projects_dir, "p1", &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
	/* a symbolic link is removed, not followed */
	g_assert_true(g_file_test(outside, G_FILE_TEST_IS_DIR));
	g_assert_true(g_file_test(keep, G_FILE_TEST_EXISTS));

	g_assert_false(stdiolink_project_remove(projects_dir, "p1", &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "project not found: p1");
	g_clear_error(&error);

	/* ids that are not project ids never reach the file system */
	g_assert_false(stdiolink_project_remove(projects_dir, "../outside", &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "project not found: ../outside");
	g_assert_true(g_file_test(outside, G_FILE_TEST_IS_DIR));

	g_assert_true(sl_test_remove_tree(tmp));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/schedule/defaults", test_schedule_defaults_func);
	g_test_add_func("/schedule/table", test_schedule_table_func);
	g_test_add_func("/schedule/partial", test_schedule_partial_func);
	g_test_add_func("/project/body/errors", test_body_table_func);
	g_test_add_func("/project/body/success", test_body_success_func);
	g_test_add_func("/project/json", test_project_json_func);
	g_test_add_func("/project/validate", test_project_validate_func);
	g_test_add_func("/project/copy", test_project_copy_func);
	g_test_add_func("/project/fixtures/all", test_fixture_projects_func);
	g_test_add_func("/project/fixtures/variants", test_fixture_variants_func);
	g_test_add_func("/project/load/errors", test_load_errors_func);
	g_test_add_func("/project/load/param", test_load_param_func);
	g_test_add_func("/project/load/all", test_load_all_func);
	g_test_add_func("/project/save/files", test_save_func);
	g_test_add_func("/project/save/errors", test_save_errors_func);
	g_test_add_func("/project/save/readonly", test_save_readonly_func);
	g_test_add_func("/project/save/rollback", test_save_rollback_func);
	g_test_add_func("/project/remove", test_remove_func);

	return g_test_run();
}
