#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sl-daemon-fixture.h"
#include "sl-test-utils.h"

/* the schema of the test service: every knob of sl-test-service */
static const char *test_schema =
    "{\"exitCode\":{\"type\":\"int\",\"default\":0},"
    "\"sleepMs\":{\"type\":\"int\",\"default\":0,\"constraints\":{\"min\":0}},"
    "\"ignoreTerm\":{\"type\":\"bool\",\"default\":false},"
    "\"crash\":{\"type\":\"string\"},"
    "\"spawnChild\":{\"type\":\"string\"},"
    "\"stdout\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"stderr\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"port\":{\"type\":\"int\",\"default\":8080,\"constraints\":{\"min\":1,\"max\":65535}}}";

static JsonObject *
object_of(JsonNode *node)
{
	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_node_get_object(node);
}

static void
setup_basic(SlDaemonFixture *fx)
{
	sl_daemon_fixture_init(fx);
	sl_daemon_fixture_add_test_service(fx, "svc", test_schema);
	sl_daemon_fixture_add_project(fx, "sleeper", "svc", NULL,
				      "{\"sleepMs\":60000,\"stdout\":[\"hello\"],"
				      "\"stderr\":[\"warning\"]}");
	sl_daemon_fixture_add_project(fx, "bad-port", "svc", NULL, "{\"port\":70000}");
	sl_daemon_fixture_add_project(fx, "orphan", "missing-service", NULL, "{}");
}

/* ---- server and services ---------------------------------------------------------------- */

static void
test_status_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	g_autoptr(JsonNode) node = NULL;
	JsonObject *root, *counts;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);
	node = sl_daemon_fixture_request(&fx, "GET", "/api/server/status", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	root = object_of(node);
	g_assert_cmpstr(json_object_get_string_member(root, "status"), ==, "ok");
	g_assert_cmpstr(json_object_get_string_member(root, "version"), ==, PACKAGE_VERSION);
	g_assert_cmpstr(json_object_get_string_member(root, "dataRoot"), ==, fx.root);
	g_assert_true(json_object_has_member(root, "mainLoop"));
	counts = json_object_get_object_member(root, "counts");
	g_assert_cmpint(json_object_get_int_member(counts, "services"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(
			    json_object_get_object_member(counts, "projects"), "total"), ==, 3);
	g_assert_cmpint(json_object_get_int_member(
			    json_object_get_object_member(counts, "projects"), "invalid"), ==, 2);
	sl_daemon_fixture_clear(&fx);
}

static void
test_services_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	JsonArray *list;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/services", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	list = json_object_get_array_member(object_of(node), "services");
	g_assert_cmpuint(json_array_get_length(list), ==, 1);
	g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(list, 0),
						   "projectCount"), ==, 2);
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/services/svc", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
			     object_of(node), "configSchemaFields")), ==, 8);
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/services/nope", NULL, &status);
	g_assert_cmpuint(status, ==, 404);
	sl_daemon_fixture_assert_error(node, "not_found", "service not found");
	json_node_unref(node);

	sl_daemon_fixture_clear(&fx);
}

static void
test_service_schema_routes_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	JsonObject *root;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/services/svc/validate-schema",
					 "{\"schema\":{\"a\":{\"type\":\"int\"}}}", &status);
	g_assert_cmpuint(status, ==, 200);
	g_assert_true(json_object_get_boolean_member(object_of(node), "valid"));
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/services/svc/validate-schema",
					 "{\"schema\":{\"a\":{\"type\":\"Int\"}}}", &status);
	g_assert_cmpuint(status, ==, 200);
	root = object_of(node);
	g_assert_false(json_object_get_boolean_member(root, "valid"));
	g_assert_cmpstr(json_object_get_string_member(root, "error"), ==,
			"unknown field type \"Int\" for field \"a\"");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/services/svc/validate-schema", "{}",
					 &status);
	g_assert_cmpuint(status, ==, 400);
	sl_daemon_fixture_assert_error(node, "bad_request",
				       "missing required object field: schema");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/services/svc/generate-defaults", NULL,
					 &status);
	g_assert_cmpuint(status, ==, 200);
	root = object_of(node);
	g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(root, "config"),
						   "port"), ==, 8080);
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/services/svc/validate-config",
					 "{\"config\":{\"port\":70000}}", &status);
	g_assert_cmpuint(status, ==, 200);
	root = object_of(node);
	g_assert_false(json_object_get_boolean_member(root, "valid"));
	g_assert_cmpstr(json_object_get_string_member(root, "errorField"), ==, "port");
	g_assert_cmpstr(json_object_get_string_member(root, "errorMessage"), ==,
			"value 70000 > max 65535");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/services/svc/validate-config",
					 "{\"config\":{\"sleepMs\":5}}", &status);
	g_assert_cmpuint(status, ==, 200);
	root = object_of(node);
	g_assert_true(json_object_get_boolean_member(root, "valid"));
	g_assert_cmpint(json_object_get_int_member(
			    json_object_get_object_member(root, "filledConfig"), "port"), ==, 8080);
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/services/svc/validate-config",
					 "{\"config\":[]}", &status);
	g_assert_cmpuint(status, ==, 400);
	sl_daemon_fixture_assert_error(node, "bad_request",
				       "missing required object field: config");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/services/nope/validate-config",
					 "{\"config\":{}}", &status);
	g_assert_cmpuint(status, ==, 404);
	json_node_unref(node);

	sl_daemon_fixture_clear(&fx);
}

/* ---- projects ------------------------------------------------------------------------------ */

static void
test_projects_read_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	JsonObject *root;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/projects", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	root = object_of(node);
	g_assert_cmpint(json_object_get_int_member(root, "total"), ==, 3);
	g_assert_cmpstr(json_object_get_string_member(
			    json_array_get_object_element(
				json_object_get_array_member(root, "projects"), 0), "id"), ==,
			"bad-port");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "GET",
					 "/api/projects?status=invalid&pageSize=1&page=2", NULL,
					 &status);
	root = object_of(node);
	g_assert_cmpint(json_object_get_int_member(root, "total"), ==, 2);
	g_assert_cmpint(json_object_get_int_member(root, "pageSize"), ==, 1);
	g_assert_cmpstr(json_object_get_string_member(
			    json_array_get_object_element(
				json_object_get_array_member(root, "projects"), 0), "id"), ==,
			"orphan");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/projects/bad-port", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	root = object_of(node);
	g_assert_false(json_object_get_boolean_member(root, "valid"));
	g_assert_cmpstr(json_object_get_string_member(root, "status"), ==, "invalid");
	g_assert_cmpstr(json_object_get_string_member(root, "error"), ==,
			"port: value 70000 > max 65535");
	g_assert_true(json_object_has_member(root, "configSchema"));
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/projects/orphan", NULL, &status);
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "error"), ==,
			"service not found: missing-service");
	g_assert_false(json_object_has_member(object_of(node), "configSchema"));
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/projects/sleeper", NULL, &status);
	root = object_of(node);
	g_assert_true(json_object_get_boolean_member(root, "valid"));
	g_assert_cmpstr(json_object_get_string_member(root, "status"), ==, "stopped");
	g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(root, "config"),
						   "port"), ==, 8080);
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/projects/none", NULL, &status);
	g_assert_cmpuint(status, ==, 404);
	sl_daemon_fixture_assert_error(node, "not_found", "project not found");
	json_node_unref(node);

	sl_daemon_fixture_clear(&fx);
}

static void
test_projects_create_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	g_autofree char *config_path = NULL;
	g_autofree char *params = NULL;
	struct stat st;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects",
					 "{\"id\":\"fresh\",\"name\":\"Fresh\","
					 "\"serviceId\":\"svc\","
					 "\"config\":{\"sleepMs\":10}}",
					 &status);
	g_assert_cmpuint(status, ==, 201);
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "status"), ==, "stopped");
	json_node_unref(node);

	/* the files are on disk, private, with the filled-in config */
	config_path = sl_daemon_fixture_path(&fx, "projects/fresh/config.json");
	g_assert_cmpint(g_stat(config_path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_free(config_path);
	config_path = sl_daemon_fixture_path(&fx, "projects/fresh/param.json");
	g_assert_true(g_file_get_contents(config_path, &params, NULL, NULL));
	g_assert_nonnull(strstr(params, "\"port\": 8080"));

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects",
					 "{\"id\":\"fresh\",\"name\":\"Again\","
					 "\"serviceId\":\"svc\"}",
					 &status);
	g_assert_cmpuint(status, ==, 409);
	sl_daemon_fixture_assert_error(node, "conflict", "project already exists");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects",
					 "{\"id\":\"a/b\",\"name\":\"x\",\"serviceId\":\"svc\"}",
					 &status);
	g_assert_cmpuint(status, ==, 400);
	sl_daemon_fixture_assert_error(node, "bad_request", "invalid project id");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects", "{\"name\":\"x\"}", &status);
	g_assert_cmpuint(status, ==, 400);
	sl_daemon_fixture_assert_error(node, "bad_request", "missing required string field: id");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects",
					 "{\"id\":\"p2\",\"name\":\"x\",\"serviceId\":\"svc\","
					 "\"config\":{\"port\":0}}",
					 &status);
	g_assert_cmpuint(status, ==, 400);
	sl_daemon_fixture_assert_error(node, "bad_request",
				       "project invalid: port: value 0 < min 1");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects",
					 "{\"id\":\"p3\",\"name\":\"x\",\"serviceId\":\"nope\"}",
					 &status);
	g_assert_cmpuint(status, ==, 400);
	sl_daemon_fixture_assert_error(node, "bad_request",
				       "project invalid: service not found: nope");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects",
					 "{\"id\":\"p4\",\"name\":\"x\",\"serviceId\":\"svc\","
					 "\"colour\":\"red\"}",
					 &status);
	g_assert_cmpuint(status, ==, 400);
	sl_daemon_fixture_assert_error(node, "bad_request",
				       "unknown field in project config: colour");
	json_node_unref(node);

	/* nothing of the refused ones reached the disk */
	g_free(config_path);
	config_path = sl_daemon_fixture_path(&fx, "projects/p2");
	g_assert_false(g_file_test(config_path, G_FILE_TEST_EXISTS));

	/* the project survives a restart */
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_start(&fx);
	node = sl_daemon_fixture_request(&fx, "GET", "/api/projects/fresh", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	g_assert_true(json_object_get_boolean_member(object_of(node), "valid"));
	json_node_unref(node);

	sl_daemon_fixture_clear(&fx);
}

static void
test_projects_update_delete_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	g_autofree char *dir = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);

	node = sl_daemon_fixture_request(&fx, "PUT", "/api/projects/sleeper",
					 "{\"name\":\"Renamed\",\"serviceId\":\"svc\","
					 "\"enabled\":false,\"config\":{\"sleepMs\":1}}",
					 &status);
	g_assert_cmpuint(status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "name"), ==, "Renamed");
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "status"), ==, "disabled");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "PUT", "/api/projects/sleeper",
					 "{\"id\":\"other\",\"name\":\"x\",\"serviceId\":\"svc\"}",
					 &status);
	g_assert_cmpuint(status, ==, 409);
	sl_daemon_fixture_assert_error(node, "conflict", "project id mismatch");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "PUT", "/api/projects/sleeper",
					 "{\"name\":\"x\",\"serviceId\":\"svc\","
					 "\"config\":{\"port\":\"eighty\"}}",
					 &status);
	g_assert_cmpuint(status, ==, 400);
	sl_daemon_fixture_assert_error(node, "bad_request",
				       "project invalid: port: expected integer");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "PUT", "/api/projects/ghost",
					 "{\"name\":\"x\",\"serviceId\":\"svc\"}", &status);
	g_assert_cmpuint(status, ==, 404);
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects/sleeper/validate",
					 "{\"config\":{\"port\":0}}", &status);
	g_assert_cmpuint(status, ==, 200);
	g_assert_false(json_object_get_boolean_member(object_of(node), "valid"));
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "error"), ==,
			"port: value 0 < min 1");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects/sleeper/validate",
					 "{\"config\":\"x\"}", &status);
	g_assert_cmpuint(status, ==, 400);
	sl_daemon_fixture_assert_error(node, "bad_request", "field 'config' must be an object");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "DELETE", "/api/projects/sleeper", NULL, &status);
	g_assert_cmpuint(status, ==, 204);
	g_assert_null(node);
	dir = sl_daemon_fixture_path(&fx, "projects/sleeper");
	g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));

	node = sl_daemon_fixture_request(&fx, "DELETE", "/api/projects/sleeper", NULL, &status);
	g_assert_cmpuint(status, ==, 404);
	json_node_unref(node);

	sl_daemon_fixture_clear(&fx);
}

/* ---- instances ----------------------------------------------------------------------------- */

static gboolean
no_instances_cb(SlDaemonFixture *fx, gpointer data)
{
	return sl_daemon_fixture_count_instances(fx, data) == 0;
}

static gboolean
instance_running_cb(SlDaemonFixture *fx, gpointer data)
{
	g_autofree char *path = g_strdup_printf("/api/instances/%s", (const char *)data);
	guint status = 0;
	g_autoptr(JsonNode) node = sl_daemon_fixture_request(fx, "GET", path, NULL, &status);

	if (status != 200)
		return FALSE;
	return g_strcmp0(stdiolink_json_object_get_string(object_of(node), "status"),
			 "running") == 0;
}

static gboolean
log_has_lines_cb(SlDaemonFixture *fx, gpointer data)
{
	g_autofree char *path = sl_daemon_fixture_path(fx, "logs/sleeper.log");
	g_autofree char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) && strstr(text, "| hello") != NULL &&
	       strstr(text, "| [stderr] warning") != NULL;
}

static gboolean
two_events_cb(SlDaemonFixture *fx, gpointer data)
{
	g_autoptr(GPtrArray) events = sl_daemon_fixture_read_events(fx, data);

	return events->len >= 2;
}

static char *
start_project(SlDaemonFixture *fx, const char *id)
{
	g_autofree char *path = g_strdup_printf("/api/projects/%s/start", id);
	guint status = 0;
	g_autoptr(JsonNode) node = sl_daemon_fixture_request(fx, "POST", path, NULL, &status);
	JsonObject *root = object_of(node);

	g_assert_cmpuint(status, ==, 202);
	g_assert_true(json_object_get_boolean_member(root, "started"));
	g_assert_cmpstr(json_object_get_string_member(root, "status"), ==, "starting");
	g_assert_true(g_str_has_prefix(json_object_get_string_member(root, "instanceId"), "inst_"));
	return g_strdup(json_object_get_string_member(root, "instanceId"));
}

static void
test_start_stop_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	JsonObject *root;
	g_autofree char *instance_id = NULL;
	g_autofree char *path = NULL;
	g_autofree char *workspace = NULL;
	g_autoptr(GPtrArray) events = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);

	instance_id = start_project(&fx, "sleeper");
	g_assert_true(sl_daemon_fixture_wait(&fx, instance_running_cb, instance_id));
	g_assert_true(sl_daemon_fixture_wait(&fx, log_has_lines_cb, NULL));

	path = g_strdup_printf("/api/instances/%s", instance_id);
	node = sl_daemon_fixture_request(&fx, "GET", path, NULL, &status);
	root = object_of(node);
	g_assert_cmpint(json_object_get_int_member(root, "pid"), >, 0);
	g_assert_cmpstr(json_object_get_string_member(root, "projectId"), ==, "sleeper");
	workspace = sl_daemon_fixture_path(&fx, "projects/sleeper/workspace");
	g_assert_cmpstr(json_object_get_string_member(root, "workingDirectory"), ==, workspace);
	g_assert_true(g_file_test(workspace, G_FILE_TEST_IS_DIR));
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/projects/sleeper", NULL, &status);
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "status"), ==, "running");
	g_assert_cmpint(json_object_get_int_member(object_of(node), "instanceCount"), ==, 1);
	json_node_unref(node);

	/* a manual project runs once at a time */
	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects/sleeper/start", NULL, &status);
	g_assert_cmpuint(status, ==, 409);
	sl_daemon_fixture_assert_error(node, "conflict", "already running");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects/sleeper/stop", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	g_assert_true(json_object_get_boolean_member(object_of(node), "stopped"));
	json_node_unref(node);
	g_assert_true(sl_daemon_fixture_wait(&fx, no_instances_cb, "sleeper"));
	g_assert_true(sl_daemon_fixture_wait(&fx, two_events_cb, instance_id));

	events = sl_daemon_fixture_read_events(&fx, instance_id);
	g_assert_cmpuint(events->len, ==, 2);
	g_assert_cmpstr(events->pdata[0], ==, "instance.started");
	g_assert_cmpstr(events->pdata[1], ==, "instance.finished");

	node = sl_daemon_fixture_request(&fx, "GET", path, NULL, &status);
	g_assert_cmpuint(status, ==, 404);
	sl_daemon_fixture_assert_error(node, "not_found", "instance not found");
	json_node_unref(node);

	sl_daemon_fixture_clear(&fx);
}

static void
test_start_refused_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects/bad-port/start", NULL,
					 &status);
	g_assert_cmpuint(status, ==, 400);
	sl_daemon_fixture_assert_error(node, "bad_request",
				       "project invalid: port: value 70000 > max 65535");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects/ghost/start", NULL, &status);
	g_assert_cmpuint(status, ==, 404);
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/instances/inst_00000000/terminate",
					 NULL, &status);
	g_assert_cmpuint(status, ==, 404);
	json_node_unref(node);

	g_assert_cmpuint(sl_daemon_fixture_count_instances(&fx, NULL), ==, 0);
	sl_daemon_fixture_clear(&fx);
}

static gboolean
pid_file_written_cb(SlDaemonFixture *fx, gpointer data)
{
	return g_file_test(data, G_FILE_TEST_EXISTS);
}

static GPid
read_pid_file(const char *path)
{
	g_autofree char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return (GPid)g_ascii_strtoll(text, NULL, 10);
}

/* a service that ignores SIGTERM is killed after the grace period, its child with it */
static void
test_stop_grace_kill_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	g_autofree char *child_pid_file = NULL;
	g_autofree char *params = NULL;
	g_autofree char *instance_id = NULL;
	g_autofree char *path = NULL;
	GPid child;

	sl_daemon_fixture_init(&fx);
	child_pid_file = sl_daemon_fixture_path(&fx, "child.pid");
	params = g_strdup_printf("{\"sleepMs\":60000,\"ignoreTerm\":true,\"spawnChild\":\"%s\"}",
				 child_pid_file);
	sl_daemon_fixture_add_test_service(&fx, "svc", test_schema);
	sl_daemon_fixture_add_project(&fx, "stubborn", "svc", NULL, params);
	sl_daemon_fixture_write(&fx, "config.json", "{\"stopGraceMs\":300}");
	sl_daemon_fixture_start(&fx);

	instance_id = start_project(&fx, "stubborn");
	g_assert_true(sl_daemon_fixture_wait(&fx, instance_running_cb, instance_id));
	g_assert_true(sl_daemon_fixture_wait(&fx, pid_file_written_cb, child_pid_file));
	child = read_pid_file(child_pid_file);
	g_assert_true(sl_daemon_fixture_pid_alive(child));

	path = g_strdup_printf("/api/instances/%s/terminate", instance_id);
	node = sl_daemon_fixture_request(&fx, "POST", path, NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	g_assert_true(json_object_get_boolean_member(object_of(node), "terminated"));
	json_node_unref(node);

	g_assert_true(sl_daemon_fixture_wait(&fx, no_instances_cb, "stubborn"));
	g_assert_false(sl_daemon_fixture_pid_alive(child));
	sl_daemon_fixture_clear(&fx);
}

/* an entry that disappears after loading: the start is accepted, then fails exactly once */
static void
test_start_failed_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *entry = NULL;
	g_autofree char *instance_id = NULL;
	g_autoptr(GPtrArray) events = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);
	entry = sl_daemon_fixture_path(&fx, "services/svc/run");
	g_assert_cmpint(g_unlink(entry), ==, 0);

	instance_id = start_project(&fx, "sleeper");
	g_assert_true(sl_daemon_fixture_wait(&fx, no_instances_cb, "sleeper"));
	g_assert_true(sl_daemon_fixture_wait(&fx, two_events_cb, instance_id));

	/* and no third one comes later */
	g_usleep(200 * 1000);
	events = sl_daemon_fixture_read_events(&fx, instance_id);
	g_assert_cmpuint(events->len, ==, 2);
	g_assert_cmpstr(events->pdata[0], ==, "instance.startFailed");
	g_assert_cmpstr(events->pdata[1], ==, "instance.finished");
	sl_daemon_fixture_clear(&fx);
}

static gboolean
dir_gone_cb(SlDaemonFixture *fx, gpointer data)
{
	return !g_file_test(data, G_FILE_TEST_EXISTS);
}

/* delete waits for the instances, without holding up anybody else meanwhile */
static void
test_delete_running_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	g_autofree char *instance_id = NULL;
	g_autofree char *dir = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);
	instance_id = start_project(&fx, "sleeper");
	g_assert_true(sl_daemon_fixture_wait(&fx, instance_running_cb, instance_id));

	node = sl_daemon_fixture_request(&fx, "DELETE", "/api/projects/sleeper", NULL, &status);
	g_assert_cmpuint(status, ==, 204);
	g_assert_null(node);
	g_assert_cmpuint(sl_daemon_fixture_count_instances(&fx, "sleeper"), ==, 0);
	dir = sl_daemon_fixture_path(&fx, "projects/sleeper");
	g_assert_true(sl_daemon_fixture_wait(&fx, dir_gone_cb, dir));
	sl_daemon_fixture_clear(&fx);
}

static gboolean
stubborn_ready_cb(SlDaemonFixture *fx, gpointer data)
{
	g_autofree char *path = sl_daemon_fixture_path(fx, "logs/stubborn.log");
	g_autofree char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) && strstr(text, "| ready") != NULL;
}

/* waits for @method @path to be refused with @status, @code and @message */
typedef struct {
	const char *method;
	const char *path;
	guint status;
	const char *code;
	const char *message;
} Refusal;

static gboolean
refused_cb(SlDaemonFixture *fx, gpointer data)
{
	const Refusal *want = data;
	guint status = 0;
	g_autoptr(JsonNode) node = NULL;

	node = sl_daemon_fixture_request(fx, want->method, want->path, NULL, &status);
	if (status != want->status)
		return FALSE;
	sl_daemon_fixture_assert_error(node, want->code, want->message);
	return TRUE;
}

/* stop is a guarded mutation: refused as busy while another change holds the project */
static const Refusal stubborn_busy = {"POST", "/api/projects/stubborn/stop", 409, "project_busy",
				      "project operation already in progress: stubborn"};
static const Refusal shutting_down = {"GET", "/api/server/status", 503, "unavailable",
				      "the daemon is shutting down"};
static const Refusal metrics_shutting_down = {"GET", "/metrics", 503, "unavailable",
					      "the daemon is shutting down"};

/*
 * While an update waits for a stubborn instance to go, a second mutation of the same
 * project is refused as busy and other requests are answered at once.
 */
static void
test_project_busy_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	SlHeldRequest slow = {0};
	g_autofree char *instance_id = NULL;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_add_test_service(&fx, "svc", test_schema);
	sl_daemon_fixture_add_project(&fx, "stubborn", "svc", NULL,
				      "{\"sleepMs\":60000,\"ignoreTerm\":true,"
				      "\"stdout\":[\"ready\"]}");
	sl_daemon_fixture_write(&fx, "config.json", "{\"stopGraceMs\":3000}");
	sl_daemon_fixture_start(&fx);
	instance_id = start_project(&fx, "stubborn");

	/* "running" means spawned; the service prints once it has set SIGTERM aside */
	g_assert_true(sl_daemon_fixture_wait(&fx, stubborn_ready_cb, NULL));

	sl_held_request_start(&slow, &fx, "PUT", "/api/projects/stubborn",
			      "{\"name\":\"Changed\",\"serviceId\":\"svc\"}");

	/* stop is a guarded mutation too, and harmless here: once the update holds the
	 * project it is refused as busy, for as long as the stubborn instance lives */
	g_assert_true(sl_daemon_fixture_wait(&fx, refused_cb, (gpointer)&stubborn_busy));
	node = sl_daemon_fixture_request(&fx, "DELETE", "/api/projects/stubborn", NULL, &status);
	g_assert_cmpuint(status, ==, 409);
	sl_daemon_fixture_assert_error(node, "project_busy", NULL);
	json_node_unref(node);
	node = sl_daemon_fixture_request(&fx, "GET", "/api/server/status", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	json_node_unref(node);
	g_assert_cmpint(g_atomic_int_get(&slow.done), ==, 0);

	sl_held_request_join(&slow);
	g_assert_cmpuint(slow.status, ==, 200);
	sl_held_request_clear(&slow);
	sl_daemon_fixture_clear(&fx);
}

/* ---- HTTP rules ---------------------------------------------------------------------------- */

static void
test_http_errors_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	g_autofree char *big = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects", "{\"id\":", &status);
	g_assert_cmpuint(status, ==, 400);
	sl_daemon_fixture_assert_error(node, "bad_request", "request body must be a JSON object");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects", "[1,2]", &status);
	g_assert_cmpuint(status, ==, 400);
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects", "\xff\xfe{}", &status);
	g_assert_cmpuint(status, ==, 400);
	json_node_unref(node);

	/* a blank body is an empty object */
	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects", "   ", &status);
	g_assert_cmpuint(status, ==, 400);
	sl_daemon_fixture_assert_error(node, "bad_request", "missing required string field: id");
	json_node_unref(node);

	big = g_strnfill(1024 * 1024 + 1, ' ');
	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects", big, &status);
	g_assert_cmpuint(status, ==, 413);
	sl_daemon_fixture_assert_error(node, "payload_too_large",
				       "request body too large (limit 1MB)");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/nothing", NULL, &status);
	g_assert_cmpuint(status, ==, 404);
	sl_daemon_fixture_assert_error(node, "not_found", "not found");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "DELETE", "/api/server/status", NULL, &status);
	g_assert_cmpuint(status, ==, 405);
	sl_daemon_fixture_assert_error(node, "method_not_allowed", NULL);
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/server%2Fstatus", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "OPTIONS", "/api/projects/x/start", NULL, &status);
	g_assert_cmpuint(status, ==, 204);
	g_assert_null(node);

	/* the daemon is still serving */
	node = sl_daemon_fixture_request(&fx, "GET", "/api/server/status", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	json_node_unref(node);
	sl_daemon_fixture_clear(&fx);
}

static JsonNode *
request_with_header(SlDaemonFixture *fx,
		    const char *method,
		    const char *path,
		    const char *header,
		    const char *value,
		    guint *status)
{
	g_autofree char *url = g_strconcat(fx->base_url, path, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);

	soup_message_headers_replace(soup_message_get_request_headers(msg), header, value);
	return sl_daemon_fixture_request_full(fx, msg, NULL, status);
}

static void
test_access_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	g_autofree char *own_origin = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);

	/* a page elsewhere cannot start anything */
	node = request_with_header(&fx, "POST", "/api/projects/sleeper/start", "Origin",
				   "http://evil.example", &status);
	g_assert_cmpuint(status, ==, 403);
	sl_daemon_fixture_assert_error(node, "forbidden", NULL);
	json_node_unref(node);
	g_assert_cmpuint(sl_daemon_fixture_count_instances(&fx, NULL), ==, 0);

	/* a rebinding name pointing at 127.0.0.1 is not answered */
	node = request_with_header(&fx, "GET", "/api/server/status", "Host", "evil.example:6200",
				   &status);
	g_assert_cmpuint(status, ==, 421);
	sl_daemon_fixture_assert_error(node, "misdirected_request", NULL);
	json_node_unref(node);

	/* the daemon's own origin is fine, and no CORS header is sent by default */
	own_origin = g_strdup(fx.base_url);
	node = request_with_header(&fx, "GET", "/api/server/status", "Origin", own_origin, &status);
	g_assert_cmpuint(status, ==, 200);
	json_node_unref(node);

	node = request_with_header(&fx, "GET", "/api/server/status", "Host", "localhost", &status);
	g_assert_cmpuint(status, ==, 200);
	json_node_unref(node);
	sl_daemon_fixture_clear(&fx);
}

static void
test_cors_configured_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	g_autofree char *url = NULL;
	g_autoptr(SoupMessage) msg = NULL;
	g_autoptr(JsonNode) node = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_write(&fx, "config.json", "{\"corsOrigin\":\"http://console.example\"}");
	sl_daemon_fixture_start(&fx);

	url = g_strconcat(fx.base_url, "/api/services", NULL);
	msg = soup_message_new("GET", url);
	soup_message_headers_replace(soup_message_get_request_headers(msg), "Origin",
				     "http://console.example");
	node = sl_daemon_fixture_request_full(&fx, msg, NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	g_assert_cmpstr(soup_message_headers_get_one(soup_message_get_response_headers(msg),
						     "Access-Control-Allow-Origin"), ==,
			"http://console.example");
	sl_daemon_fixture_clear(&fx);
}

/* ---- real data roots ----------------------------------------------------------------------- */

/* the production fixture loads whole: every service, every project valid */
static void
test_fixture_data_root_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *fixture = g_build_filename(g_getenv("STDIOLINK_FIXTURES"),
						    "original-data-roots", "data_root", NULL);
	g_autofree char *services = NULL;
	g_autoptr(GDir) dir = NULL;
	const char *name;
	guint status = 0;
	JsonNode *node;
	JsonObject *counts;

	sl_daemon_fixture_init(&fx);
	sl_test_copy_tree(fixture, fx.root);
	services = sl_daemon_fixture_path(&fx, "services");
	dir = g_dir_open(services, 0, NULL);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *index_js = g_build_filename("services", name, "index.js", NULL);

		sl_daemon_fixture_write(&fx, index_js, "// placeholder\n");
	}
	sl_daemon_fixture_start(&fx);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/server/status", NULL, &status);
	counts = json_object_get_object_member(object_of(node), "counts");
	g_assert_cmpint(json_object_get_int_member(counts, "services"), ==, 7);
	g_assert_cmpint(json_object_get_int_member(
			    json_object_get_object_member(counts, "projects"), "total"), ==, 9);
	g_assert_cmpint(json_object_get_int_member(
			    json_object_get_object_member(counts, "projects"), "invalid"), ==, 0);
	json_node_unref(node);

	/* without a service program, a JavaScript project cannot start, and says so */
	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects/opcua_server/start", NULL,
					 &status);
	g_assert_cmpuint(status, ==, 500);
	sl_daemon_fixture_assert_error(node, "start_failed", "stdiolink_service not found");
	json_node_unref(node);
	sl_daemon_fixture_clear(&fx);
}

/* ---- drivers and JavaScript services ----------------------------------------------------- */

static void
test_drivers_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	JsonObject *root;
	JsonArray *list;
	g_autofree char *exe = NULL;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_write(&fx, "drivers/calc/stdio.drv.calc", "#!/bin/sh\nexit 0\n");
	exe = sl_daemon_fixture_path(&fx, "drivers/calc/stdio.drv.calc");
	g_assert_cmpint(g_chmod(exe, 0755), ==, 0);
	sl_daemon_fixture_write(&fx, "drivers/calc/driver.meta.json",
				"{\"schemaVersion\":\"1.0\",\"info\":{\"id\":\"demo.calc\","
				"\"name\":\"Calc\",\"version\":\"2.0\"},\"commands\":[{\"name\":"
				"\"add\",\"params\":[{\"name\":\"a\",\"type\":\"integer\"}]}]}");
	sl_daemon_fixture_write(&fx, "drivers/old.failed/driver.meta.json", "{}");
	sl_daemon_fixture_start(&fx);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/drivers", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	list = json_object_get_array_member(object_of(node), "drivers");
	g_assert_cmpuint(json_array_get_length(list), ==, 1);
	root = json_array_get_object_element(list, 0);
	g_assert_cmpstr(json_object_get_string_member(root, "id"), ==, "demo.calc");
	g_assert_cmpstr(json_object_get_string_member(root, "program"), ==, exe);
	g_assert_cmpstr(json_object_get_string_member(root, "programDisplay"), ==,
			"drivers/calc/stdio.drv.calc");
	g_assert_cmpuint(strlen(json_object_get_string_member(root, "metaHash")), ==, 32);
	json_node_unref(node);

	/* the metadata comes back normalized: "integer" is the canonical "int" */
	node = sl_daemon_fixture_request(&fx, "GET", "/api/drivers/demo.calc", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	root = json_object_get_object_member(object_of(node), "meta");
	g_assert_cmpstr(json_object_get_string_member(
			    json_array_get_object_element(
				json_object_get_array_member(
				    json_array_get_object_element(
					json_object_get_array_member(root, "commands"), 0),
				    "params"),
				0),
			    "type"),
			==, "int");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/drivers/nope", NULL, &status);
	g_assert_cmpuint(status, ==, 404);
	sl_daemon_fixture_assert_error(node, "not_found", "driver not found");
	json_node_unref(node);
	sl_daemon_fixture_clear(&fx);
}

static gboolean
file_has_cb(SlDaemonFixture *fx, gpointer data)
{
	g_autofree char *text = NULL;

	return g_file_get_contents(data, &text, NULL, NULL) && strstr(text, "}") != NULL;
}

/*
 * A JavaScript service runs under the service program with the guard socket: the program
 * gets the earlier server's argument list, reaches the guard and stays alive.
 */
static void
test_js_service_guard_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	JsonObject *report;
	JsonArray *argv;
	g_autofree char *report_path = NULL;
	g_autofree char *params = NULL;
	g_autofree char *config = NULL;
	g_autofree char *instance_id = NULL;
	g_autofree char *text = NULL;
	g_autofree char *path = NULL;
	g_autofree char *service_dir = NULL;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_write(&fx, "services/js/manifest.json",
				"{\"manifestVersion\":\"1\",\"id\":\"js\",\"name\":\"JS\","
				"\"version\":\"1\"}");
	sl_daemon_fixture_write(&fx, "services/js/index.js", "// run by the service program\n");
	sl_daemon_fixture_write(&fx, "services/js/config.schema.json",
				"{\"report\":{\"type\":\"string\"},"
				"\"sleepMs\":{\"type\":\"int\"}}");
	report_path = sl_daemon_fixture_path(&fx, "report.json");
	params = g_strdup_printf("{\"report\":\"%s\",\"sleepMs\":60000}", report_path);
	sl_daemon_fixture_add_project(&fx, "app", "js", NULL, params);
	config = g_strdup_printf("{\"serviceProgram\":\"%s\"}", g_getenv("SL_TEST_SERVICE"));
	sl_daemon_fixture_write(&fx, "config.json", config);
	sl_daemon_fixture_start(&fx);

	instance_id = start_project(&fx, "app");
	g_assert_true(sl_daemon_fixture_wait(&fx, file_has_cb, report_path));
	g_assert_true(g_file_get_contents(report_path, &text, NULL, NULL));
	node = stdiolink_json_parse(text, -1, NULL);
	report = object_of(node);
	g_assert_true(json_object_get_boolean_member(report, "guardConnected"));
	argv = json_object_get_array_member(report, "argv");
	g_assert_cmpuint(json_array_get_length(argv), ==, 5);
	service_dir = sl_daemon_fixture_path(&fx, "services/js");
	g_assert_cmpstr(json_array_get_string_element(argv, 1), ==, service_dir);
	g_assert_true(g_str_has_prefix(json_array_get_string_element(argv, 2), "--config-file="));
	g_assert_true(g_str_has_prefix(json_array_get_string_element(argv, 3),
				       "--guard=stdiolink_guard_"));
	json_node_unref(node);

	/* the service exits at once if the guard connection drops; it is still running */
	g_usleep(200 * 1000);
	path = g_strdup_printf("/api/instances/%s", instance_id);
	node = sl_daemon_fixture_request(&fx, "GET", path, NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "status"), ==, "running");
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(object_of(node),
									  "commandLine")), ==, 5);
	json_node_unref(node);
	sl_daemon_fixture_clear(&fx);
}

/* ---- regressions from attacking the daemon --------------------------------------------- */

static char *
raw_exchange(SlDaemonFixture *fx, const char *request, gsize extra_body)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketConnection) conn = NULL;
	g_autoptr(GError) error = NULL;
	GOutputStream *out;
	GInputStream *in;
	char reply[4096] = {0};
	gsize n = 0;
	guint port = (guint)g_ascii_strtoull(strrchr(fx->base_url, ':') + 1, NULL, 10);

	conn = g_socket_client_connect_to_host(client, "127.0.0.1", (guint16)port, NULL, &error);
	g_assert_no_error(error);
	out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
	in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
	g_output_stream_write_all(out, request, strlen(request), NULL, NULL, &error);
	g_assert_no_error(error);
	for (gsize sent = 0; sent < extra_body; sent += 1024) {
		static const char chunk[1024];

		if (!g_output_stream_write_all(out, chunk, sizeof(chunk), NULL, NULL, NULL))
			break;
	}
	g_input_stream_read_all(in, reply, sizeof(reply) - 1, &n, NULL, &error);
	g_assert_no_error(error);
	return g_strndup(reply, n);
}

/* an announced oversize body is refused before one byte of it is read */
static void
test_oversized_announced_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *reply = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);

	/* 300 MB announced, only 64 KiB sent: the answer must not wait for the rest */
	reply = raw_exchange(&fx,
			     "POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			     "Content-Length: 300000000\r\n\r\n",
			     64 * 1024);
	g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 413 "));
	g_assert_nonnull(strstr(reply, "\"code\":\"payload_too_large\""));
	g_assert_cmpuint(sl_daemon_fixture_count_instances(&fx, NULL), ==, 0);
	sl_daemon_fixture_clear(&fx);
}

/* two Host headers are malformed, whatever the second says */
static void
test_duplicate_host_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *reply = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);
	reply = raw_exchange(&fx,
			     "GET /api/projects HTTP/1.1\r\nHost: evil.example\r\n"
			     "Host: localhost\r\n\r\n",
			     0);
	g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 400 "));
	sl_daemon_fixture_clear(&fx);
}

/*
 * libsoup 3.2 leaks the descriptor of every keep-alive connection a client closes, so the
 * daemon closes each connection after its answer; HEAD is served like GET.
 */
static void
test_connection_close_and_head_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	g_autofree char *url = NULL;
	g_autoptr(SoupMessage) msg = NULL;
	g_autoptr(JsonNode) node = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);
	url = g_strconcat(fx.base_url, "/api/projects", NULL);
	msg = soup_message_new("HEAD", url);
	node = sl_daemon_fixture_request_full(&fx, msg, NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	g_assert_null(node);
	g_assert_cmpstr(soup_message_headers_get_one(soup_message_get_response_headers(msg),
						     "Connection"), ==, "close");
	sl_daemon_fixture_clear(&fx);
}

/* nesting that would overflow the parser's stack is a 400, in a body and in a file */
static void
test_deep_json_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	g_autofree char *open = g_strnfill(100000, '[');
	g_autofree char *close = g_strnfill(100000, ']');
	g_autofree char *deep = g_strconcat(open, close, NULL);

	setup_basic(&fx);
	sl_daemon_fixture_add_project(&fx, "deep", "svc", NULL, deep);
	sl_daemon_fixture_start(&fx);

	node = sl_daemon_fixture_request(&fx, "POST", "/api/projects", deep, &status);
	g_assert_cmpuint(status, ==, 400);
	sl_daemon_fixture_assert_error(node, "bad_request", "request body must be a JSON object");
	json_node_unref(node);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/projects/deep", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	g_assert_false(json_object_get_boolean_member(object_of(node), "valid"));
	g_assert_nonnull(strstr(json_object_get_string_member(object_of(node), "error"),
				"JSON nested too deeply"));
	json_node_unref(node);
	sl_daemon_fixture_clear(&fx);
}

/* a project folder removed by hand can still be deleted through the API */
static void
test_delete_hand_removed_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	g_autofree char *dir = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);
	dir = sl_daemon_fixture_path(&fx, "projects/sleeper");
	g_assert_true(sl_test_remove_tree(dir));

	node = sl_daemon_fixture_request(&fx, "DELETE", "/api/projects/sleeper", NULL, &status);
	g_assert_cmpuint(status, ==, 204);
	g_assert_null(node);
	node = sl_daemon_fixture_request(&fx, "GET", "/api/projects/sleeper", NULL, &status);
	g_assert_cmpuint(status, ==, 404);
	json_node_unref(node);
	sl_daemon_fixture_clear(&fx);
}

static gboolean
pid_gone_cb(SlDaemonFixture *fx, gpointer data)
{
	return !sl_daemon_fixture_pid_alive(GPOINTER_TO_INT(data));
}

/* a daemon killed outright takes its native instances with it */
static void
test_daemon_killed_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	g_autofree char *instance_id = NULL;
	g_autofree char *path = NULL;
	g_autoptr(JsonNode) node = NULL;
	GPid pid;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);
	instance_id = start_project(&fx, "sleeper");
	g_assert_true(sl_daemon_fixture_wait(&fx, instance_running_cb, instance_id));
	path = g_strdup_printf("/api/instances/%s", instance_id);
	node = sl_daemon_fixture_request(&fx, "GET", path, NULL, &status);
	pid = (GPid)json_object_get_int_member(object_of(node), "pid");
	g_assert_cmpint(pid, >, 0);

	g_subprocess_force_exit(fx.daemon);
	g_subprocess_wait(fx.daemon, NULL, NULL);
	g_clear_object(&fx.daemon);
	g_assert_true(sl_daemon_fixture_wait(&fx, pid_gone_cb, GINT_TO_POINTER(pid)));
	sl_daemon_fixture_clear(&fx);
}

/* ---- web console --------------------------------------------------------------------------- */

static char *
get_text(SlDaemonFixture *fx, const char *path, guint *status, char **content_type,
	 char **cache_control)
{
	g_autofree char *url = g_strconcat(fx->base_url, path, NULL);
	g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new_from_uri("GET", uri);
	g_autoptr(GBytes) body = soup_session_send_and_read(fx->session, msg, NULL, NULL);
	SoupMessageHeaders *headers = soup_message_get_response_headers(msg);

	*status = soup_message_get_status(msg);
	if (content_type != NULL)
		*content_type = g_strdup(soup_message_headers_get_one(headers, "Content-Type"));
	if (cache_control != NULL)
		*cache_control = g_strdup(soup_message_headers_get_one(headers, "Cache-Control"));
	return g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
}

static void
test_webui_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	g_autofree char *link = NULL;
	struct {
		const char *path;
		guint status;
		const char *body;
		const char *type;
		const char *cache;
	} cases[] = {
	    {"/", 200, "<html>console</html>", "text/html; charset=utf-8",
	     "no-cache, no-store, must-revalidate"},
	    {"/assets/app.js", 200, "console.log(1)", "application/javascript; charset=utf-8",
	     "public, max-age=31536000, immutable"},
	    {"/logo.PNG", 200, "png", "image/png", "public, max-age=3600"},
	    {"/projects/heartbeat", 200, "<html>console</html>", NULL, NULL},
	    {"/missing.css", 404, NULL, NULL, NULL},
	    {"/link.txt", 404, NULL, NULL, NULL},
	    {"/%2e%2e/%2e%2e/etc/hostname", 200, "<html>console</html>", NULL, NULL},
	    {"/%2e%2e/%2e%2e/etc/ld.so.conf", 404, NULL, NULL, NULL},
	    /* libsoup itself refuses a path that climbs above the root */
	    {"/assets/..%2f..%2f..%2fetc%2fld.so.conf", 400, NULL, NULL, NULL},
	    {"/%2e%2e/config", 200, "<html>console</html>", NULL, NULL},
	    {"/api/nothing", 404, "{\"code\":\"not_found\",\"error\":\"not found\"}", NULL, NULL},
	};

	setup_basic(&fx);
	sl_daemon_fixture_write(&fx, "webui/index.html", "<html>console</html>");
	sl_daemon_fixture_write(&fx, "webui/assets/app.js", "console.log(1)");
	sl_daemon_fixture_write(&fx, "webui/logo.PNG", "png");
	link = sl_daemon_fixture_path(&fx, "webui/link.txt");
	g_assert_cmpint(symlink("/etc/hostname", link), ==, 0);
	sl_daemon_fixture_start(&fx);

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *type = NULL;
		g_autofree char *cache = NULL;
		g_autofree char *body = get_text(&fx, cases[i].path, &status, &type, &cache);

		g_test_message("%s", cases[i].path);
		g_assert_cmpuint(status, ==, cases[i].status);
		if (cases[i].body != NULL)
			g_assert_cmpstr(body, ==, cases[i].body);
		if (cases[i].type != NULL)
			g_assert_cmpstr(type, ==, cases[i].type);
		if (cases[i].cache != NULL)
			g_assert_cmpstr(cache, ==, cases[i].cache);
	}
	sl_daemon_fixture_clear(&fx);
}

/* without an index.html the console is off and / is an ordinary 404 */
static void
test_webui_off_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	g_autofree char *body = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_write(&fx, "webui/app.js", "x");
	sl_daemon_fixture_start(&fx);
	body = get_text(&fx, "/app.js", &status, NULL, NULL);
	g_assert_cmpuint(status, ==, 404);
	sl_daemon_fixture_clear(&fx);
}

/* ---- API token ---------------------------------------------------------------------------- */

static JsonNode *
request_with_token(SlDaemonFixture *fx, const char *method, const char *path,
		   const char *authorization, guint *status, char **www_authenticate)
{
	g_autofree char *url = g_strconcat(fx->base_url, path, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);
	JsonNode *node;

	if (authorization != NULL)
		soup_message_headers_replace(soup_message_get_request_headers(msg),
					     "Authorization", authorization);
	node = sl_daemon_fixture_request_full(fx, msg, NULL, status);
	if (www_authenticate != NULL)
		*www_authenticate = g_strdup(soup_message_headers_get_one(
		    soup_message_get_response_headers(msg), "WWW-Authenticate"));
	return node;
}

static gboolean
console_origin_allowed_cb(SlDaemonFixture *fx, gpointer data)
{
	guint status = 0;
	g_autoptr(JsonNode) node = request_with_header(fx, "GET", "/api/server/status", "Origin",
						       "http://console.example", &status);

	return status == 200;
}

static gboolean
token_required_cb(SlDaemonFixture *fx, gpointer data)
{
	guint status = 0;
	g_autoptr(JsonNode) node = sl_daemon_fixture_request(fx, "GET", "/api/server/status",
							     NULL, &status);

	return status == 401;
}

typedef struct {
	const char *file;
	const char *text;
} FileText;

static gboolean
file_has_text_cb(SlDaemonFixture *fx, gpointer data)
{
	FileText *want = data;
	g_autofree char *path = sl_daemon_fixture_path(fx, want->file);
	g_autofree char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) && strstr(text, want->text) != NULL;
}

/* keys read only at start-up are named when a reload finds them changed */
static void
test_sighup_restart_only_func(void)
{
	SlDaemonFixture fx;
	FileText want = {"logs/server.log",
			 "[I] config reload: logMaxFiles, stopGraceMs take effect after a "
			 "restart\n"};
	FileText reloaded = {"logs/server.log", "[I] configuration reloaded\n"};
	guint status = 0;
	g_autoptr(JsonNode) node = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);
	sl_daemon_fixture_write(&fx, "config.json",
				"{\"logMaxFiles\": 7, \"stopGraceMs\": 10}");
	g_subprocess_send_signal(fx.daemon, SIGHUP);
	g_assert_true(sl_daemon_fixture_wait(&fx, file_has_text_cb, &reloaded));
	g_assert_true(sl_daemon_fixture_wait(&fx, file_has_text_cb, &want));

	node = sl_daemon_fixture_request(&fx, "GET", "/api/server/status", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	sl_daemon_fixture_clear(&fx);
}

/* ---- logs/server.log -------------------------------------------------------------------- */

/* every line of @text has the server log's shape, `<ts> [L] text` (data-root.md 8) */
static void
assert_server_log_lines(const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	guint n = g_strv_length(lines);

	g_assert_cmpuint(n, >, 1);
	g_assert_cmpstr(lines[n - 1], ==, "");
	for (guint i = 0; i + 1 < n; i++) {
		g_test_message("%s", lines[i]);
		g_assert_true(g_regex_match_simple(
		    "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z \\[[TDIWEC]\\] .",
		    lines[i], 0, 0));
	}
}

static guint
count_substrings(const char *text, const char *needle)
{
	guint n = 0;

	for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* the daemon's messages reach logs/server.log, up to "stopped", and a restart appends */
static void
test_server_log_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *path = NULL;
	g_autofree char *text = NULL;
	g_autofree char *first = NULL;
	g_autofree char *listening = NULL;
	g_autofree char *port = NULL;

	setup_basic(&fx);
	path = sl_daemon_fixture_path(&fx, "logs/server.log");
	sl_daemon_fixture_start(&fx);
	port = g_strdup(strrchr(fx.base_url, ':') + 1);
	listening = g_strdup_printf("[I] HTTP server listening on 127.0.0.1:%s\n", port);
	sl_daemon_fixture_stop(&fx);

	text = sl_test_read_file(path);
	assert_server_log_lines(text);
	g_assert_nonnull(strstr(text, listening));
	g_assert_nonnull(strstr(text, "[I] projects: 3 loaded, 2 invalid\n"));
	g_assert_true(g_str_has_suffix(text, "[I] stopped\n"));

	/* the fixture logs at debug level: the debug lines are there too */
	g_assert_nonnull(strstr(text, "[D] "));

	sl_daemon_fixture_start(&fx);
	sl_daemon_fixture_stop(&fx);
	first = g_steal_pointer(&text);
	text = sl_test_read_file(path);
	assert_server_log_lines(text);
	g_assert_true(g_str_has_prefix(text, first));
	g_assert_cmpuint(count_substrings(text, "] HTTP server listening on"), ==, 2);
	g_assert_cmpuint(count_substrings(text, "] stopped\n"), ==, 2);
	sl_daemon_fixture_clear(&fx);
}

/* logMaxBytes and logMaxFiles rotate server.log like the project logs */
static void
test_server_log_rotation_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *old = g_strnfill(1048576 - 10, 'x');
	g_autofree char *rotated_path = NULL;
	g_autofree char *current_path = NULL;
	g_autofree char *rotated = NULL;
	g_autofree char *current = NULL;
	g_autofree char *second = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_write(&fx, "config.json", "{\"logMaxBytes\":1048576,\"logMaxFiles\":1}");
	sl_daemon_fixture_write(&fx, "logs/server.log", old);
	sl_daemon_fixture_write(&fx, "logs/server.1.log", "oldest\n");
	sl_daemon_fixture_start(&fx);
	sl_daemon_fixture_stop(&fx);

	/* the first line overflows the file: it moved to server.1.log, replacing the oldest */
	rotated_path = sl_daemon_fixture_path(&fx, "logs/server.1.log");
	rotated = sl_test_read_file(rotated_path);
	g_assert_cmpuint(strlen(rotated), ==, strlen(old));
	g_assert_true(g_str_equal(rotated, old));
	current_path = sl_daemon_fixture_path(&fx, "logs/server.log");
	current = sl_test_read_file(current_path);
	assert_server_log_lines(current);
	g_assert_true(g_str_has_suffix(current, "[I] stopped\n"));
	second = sl_daemon_fixture_path(&fx, "logs/server.2.log");
	g_assert_false(g_file_test(second, G_FILE_TEST_EXISTS));
	sl_daemon_fixture_clear(&fx);
}

/* a project log that cannot be opened is reported once, however often the project runs */
static void
test_project_log_warned_once_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *log_dir = NULL;
	g_autofree char *server_log = NULL;
	g_autofree char *text = NULL;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_add_test_service(&fx, "svc", test_schema);
	sl_daemon_fixture_add_project(&fx, "quick", "svc", NULL, "{\"stdout\":[\"hi\"]}");
	log_dir = sl_test_make_dir(fx.root, "logs/quick.log");
	sl_daemon_fixture_start(&fx);
	for (guint i = 0; i < 3; i++) {
		g_autofree char *instance_id = start_project(&fx, "quick");

		g_assert_true(sl_daemon_fixture_wait(&fx, no_instances_cb, "quick"));
	}
	sl_daemon_fixture_stop(&fx);

	server_log = sl_daemon_fixture_path(&fx, "logs/server.log");
	text = sl_test_read_file(server_log);
	g_assert_cmpuint(count_substrings(text, "quick.log: cannot open"), ==, 1);
	g_assert_cmpuint(count_substrings(text, "[I] project quick: instance"), >=, 3);
	sl_daemon_fixture_clear(&fx);
}

/* a server log that cannot be written costs the file, not the daemon */
static void
test_server_log_unwritable_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *path = NULL;
	g_autofree char *instance_id = NULL;
	guint status = 0;
	JsonNode *node;

	setup_basic(&fx);
	path = sl_daemon_fixture_path(&fx, "logs/server.log");
	g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
	sl_daemon_fixture_start(&fx);

	node = sl_daemon_fixture_request(&fx, "GET", "/api/server/status", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	json_node_unref(node);
	instance_id = start_project(&fx, "sleeper");
	g_assert_true(sl_daemon_fixture_wait(&fx, instance_running_cb, instance_id));

	/* the daemon still stops its instance and exits 0 */
	sl_daemon_fixture_stop(&fx);
	g_assert_true(g_file_test(path, G_FILE_TEST_IS_DIR));
	sl_daemon_fixture_clear(&fx);
}

/*
 * SIGHUP re-reads config.json without a restart: a broken file changes nothing, a good
 * one takes effect (CORS origin, then a token), and the daemon serves throughout.
 */
static void
test_sighup_reload_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);
	node = request_with_header(&fx, "GET", "/api/server/status", "Origin",
				   "http://console.example", &status);
	g_assert_cmpuint(status, ==, 403);
	json_node_unref(node);

	sl_daemon_fixture_write(&fx, "config.json", "{\"corsOrigin\": 5}");
	g_subprocess_send_signal(fx.daemon, SIGHUP);
	g_usleep(200 * 1000);
	node = sl_daemon_fixture_request(&fx, "GET", "/api/server/status", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	json_node_unref(node);

	sl_daemon_fixture_write(&fx, "config.json", "{\"corsOrigin\":\"http://console.example\"}");
	g_subprocess_send_signal(fx.daemon, SIGHUP);
	g_assert_true(sl_daemon_fixture_wait(&fx, console_origin_allowed_cb, NULL));

	sl_daemon_fixture_write(&fx, "token.txt", "t0ken");
	sl_daemon_fixture_write(&fx, "config.json", "{\"tokenFile\":\"token.txt\"}");
	g_subprocess_send_signal(fx.daemon, SIGHUP);
	g_assert_true(sl_daemon_fixture_wait(&fx, token_required_cb, NULL));
	node = request_with_token(&fx, "GET", "/api/server/status", "Bearer t0ken", &status,
				  NULL);
	g_assert_cmpuint(status, ==, 200);
	json_node_unref(node);

	/* the fixture's stop sends SIGTERM and needs no token */
	sl_daemon_fixture_clear(&fx);
}

static void
test_token_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	JsonNode *node;
	g_autofree char *challenge = NULL;
	g_autofree char *page = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_write(&fx, "token.txt", "s3cret-token\n");
	sl_daemon_fixture_write(&fx, "config.json", "{\"tokenFile\":\"token.txt\"}");
	sl_daemon_fixture_write(&fx, "webui/index.html", "<html>console</html>");
	sl_daemon_fixture_start(&fx);

	/* no token: refused before anything happens, with a challenge */
	node = request_with_token(&fx, "POST", "/api/projects/sleeper/start", NULL, &status,
				  &challenge);
	g_assert_cmpuint(status, ==, 401);
	sl_daemon_fixture_assert_error(node, "unauthorized", "an API token is required");
	g_assert_cmpstr(challenge, ==, "Bearer realm=\"stdiolink\"");
	json_node_unref(node);

	node = request_with_token(&fx, "GET", "/api/server/status", "Bearer s3cret-tokex",
				  &status, NULL);
	g_assert_cmpuint(status, ==, 401);
	sl_daemon_fixture_assert_error(node, "unauthorized", "invalid API token");
	json_node_unref(node);

	node = request_with_token(&fx, "GET", "/api/instances", "Bearer s3cret-token", &status,
				  NULL);
	g_assert_cmpuint(status, ==, 200);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(object_of(node),
									  "instances")), ==, 0);
	json_node_unref(node);

	/* for clients that cannot set headers */
	node = request_with_token(&fx, "GET", "/api/server/status?access_token=s3cret-token",
				  NULL, &status, NULL);
	g_assert_cmpuint(status, ==, 200);
	json_node_unref(node);

	/* the console page and CORS preflights stay open */
	page = get_text(&fx, "/", &status, NULL, NULL);
	g_assert_cmpuint(status, ==, 200);
	node = request_with_token(&fx, "OPTIONS", "/api/projects", NULL, &status, NULL);
	g_assert_cmpuint(status, ==, 204);
	sl_daemon_fixture_clear(&fx);
}

static void
test_token_file_errors_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *data_root_arg = NULL;
	g_autofree char *err = NULL;
	int wait_status = 0;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_write(&fx, "token.txt", "  \n");
	sl_daemon_fixture_write(&fx, "config.json", "{\"tokenFile\":\"token.txt\"}");
	data_root_arg = g_strconcat("--data-root=", fx.root, NULL);
	g_spawn_sync(NULL,
		     (char *[]){(char *)g_getenv("STDIOLINKD"), data_root_arg, "--port=0", NULL},
		     NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err, &wait_status, NULL);
	g_assert_true(WIFEXITED(wait_status));
	g_assert_cmpint(WEXITSTATUS(wait_status), ==, 2);
	g_assert_nonnull(strstr(err, "token file is empty"));
	sl_daemon_fixture_clear(&fx);
}

/* ---- metrics -------------------------------------------------------------------------------- */

static void
test_metrics_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	g_autofree char *type = NULL;
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GRegex) sample = g_regex_new("^([a-z_]+)(\\{.*\\})? (-?[0-9.e+-]+)$", 0, 0,
					       NULL);
	gdouble status_requests = -1, inf_bucket = -1, count = -1;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);
	for (guint i = 0; i < 3; i++)
		json_node_unref(sl_daemon_fixture_request(&fx, "GET", "/api/server/status", NULL,
							  &status));
	json_node_unref(sl_daemon_fixture_request(&fx, "GET", "/api/projects/none", NULL,
						  &status));

	text = get_text(&fx, "/metrics", &status, &type, NULL);
	g_assert_cmpuint(status, ==, 200);
	g_assert_cmpstr(type, ==, "text/plain; version=0.0.4; charset=utf-8");

	/* every line is a comment or a well-formed sample */
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_autoptr(GMatchInfo) match = NULL;
		g_autofree char *value = NULL;

		if (*lines[i] == '\0' || g_str_has_prefix(lines[i], "# "))
			continue;
		g_test_message("%s", lines[i]);
		g_assert_true(g_regex_match(sample, lines[i], 0, &match));
		value = g_match_info_fetch(match, 3);
		if (strstr(lines[i], "route=\"/api/server/status\",status=\"200\"") != NULL)
			status_requests = g_ascii_strtod(value, NULL);
		if (strstr(lines[i], "_bucket{le=\"+Inf\"}") != NULL)
			inf_bucket = g_ascii_strtod(value, NULL);
		if (g_str_has_prefix(lines[i], "stdiolinkd_http_request_duration_seconds_count"))
			count = g_ascii_strtod(value, NULL);
	}
	g_assert_cmpfloat(status_requests, ==, 3);
	g_assert_cmpfloat(count, >=, 4);
	g_assert_cmpfloat(inf_bucket, ==, count);
	g_assert_nonnull(strstr(text, "route=\"/api/projects/{id}\",status=\"404\"} 1"));
	g_assert_nonnull(strstr(text, "stdiolinkd_main_loop_lag_max_seconds "));
	g_assert_nonnull(strstr(text, "stdiolinkd_instances{state=\"running\"} 0"));
	g_assert_nonnull(strstr(text, "stdiolinkd_sse_subscribers 0"));
	g_assert_nonnull(strstr(text, "stdiolinkd_events_dropped_total 0"));
	sl_daemon_fixture_clear(&fx);
}

/* the example configuration that is installed must load as it is */
static void
test_example_config_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	g_autofree char *example = g_build_filename(g_getenv("STDIOLINK_SOURCE_ROOT"), "data",
						    "config.example.json", NULL);
	g_autofree char *text = NULL;
	g_autoptr(JsonNode) node = NULL;

	g_assert_true(g_file_get_contents(example, &text, NULL, NULL));
	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_write(&fx, "config.json", text);
	sl_daemon_fixture_start(&fx);
	node = sl_daemon_fixture_request(&fx, "GET", "/api/server/status", NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	sl_daemon_fixture_clear(&fx);
}

/* the event stream follows the same access rules as the rest of the API */
static guint
open_stream(SlDaemonFixture *fx, const char *path_and_query, const char *header,
	    const char *value, char **content_type)
{
	g_autofree char *url = g_strconcat(fx->base_url, path_and_query, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GInputStream) body = NULL;
	g_autoptr(GError) error = NULL;

	if (header != NULL)
		soup_message_headers_replace(soup_message_get_request_headers(msg), header, value);
	body = soup_session_send(fx->session, msg, NULL, &error);
	g_assert_no_error(error);
	if (content_type != NULL)
		*content_type = g_strdup(soup_message_headers_get_content_type(
		    soup_message_get_response_headers(msg), NULL));
	g_input_stream_close(body, NULL, NULL);
	return soup_message_get_status(msg);
}

static void
test_stream_access_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *type = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_write(&fx, "token.txt", "str3am");
	sl_daemon_fixture_write(&fx, "config.json", "{\"tokenFile\":\"token.txt\"}");
	sl_daemon_fixture_start(&fx);

	g_assert_cmpuint(open_stream(&fx, "/api/events/stream", NULL, NULL, NULL), ==, 401);
	g_assert_cmpuint(open_stream(&fx, "/api/events/stream?access_token=str3am", "Origin",
				     "http://evil.example", NULL), ==, 403);
	g_assert_cmpuint(open_stream(&fx, "/api/events/stream?access_token=str3am", "Host",
				     "evil.example", NULL), ==, 421);
	g_assert_cmpuint(open_stream(&fx, "/api/events/stream?access_token=str3am", NULL, NULL,
				     &type), ==, 200);
	g_assert_cmpstr(type, ==, "text/event-stream");
	sl_daemon_fixture_clear(&fx);
}

static gboolean
events_settled_cb(SlDaemonFixture *fx, gpointer data)
{
	g_autoptr(GPtrArray) events = sl_daemon_fixture_read_events(fx, data);

	return events->len >= 2;
}

/*
 * An instance not running within startTimeoutMs ends as a failed start: with 0 the timer
 * beats the "running" step, so the path is exercised without a slow machine.
 */
static void
test_start_timeout_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *instance_id = NULL;
	g_autofree char *path = NULL;
	g_autofree char *text = NULL;
	g_autoptr(GPtrArray) events = NULL;

	setup_basic(&fx);
	sl_daemon_fixture_write(&fx, "config.json", "{\"startTimeoutMs\":0}");
	sl_daemon_fixture_start(&fx);
	instance_id = start_project(&fx, "sleeper");
	g_assert_true(sl_daemon_fixture_wait(&fx, no_instances_cb, "sleeper"));
	g_assert_true(sl_daemon_fixture_wait(&fx, events_settled_cb, instance_id));

	g_usleep(200 * 1000);
	events = sl_daemon_fixture_read_events(&fx, instance_id);
	g_assert_cmpuint(events->len, ==, 2);
	g_assert_cmpstr(events->pdata[0], ==, "instance.startFailed");
	g_assert_cmpstr(events->pdata[1], ==, "instance.finished");

	path = sl_daemon_fixture_path(&fx, "logs/events.jsonl");
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_nonnull(strstr(text, "\"code\":\"start_timeout\""));
	g_assert_nonnull(strstr(text, "\"error\":\"start timeout (0s)\""));
	sl_daemon_fixture_clear(&fx);
}

static guint
count_fds(GPid pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/fd", pid);
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	guint n = 0;

	g_assert_nonnull(dir);
	while (g_dir_read_name(dir) != NULL)
		n++;
	return n;
}

static gboolean
fds_back_to_cb(SlDaemonFixture *fx, gpointer data)
{
	GPid pid = (GPid)g_ascii_strtoll(g_subprocess_get_identifier(fx->daemon), NULL, 10);

	return count_fds(pid) <= GPOINTER_TO_UINT(data);
}

/* an oversize chunked body is refused, and its connection does not stay open afterwards */
static void
test_oversized_chunked_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *big = g_strnfill(1100 * 1024, ' ');
	g_autofree char *request = NULL;
	GPid pid;
	guint before;

	setup_basic(&fx);
	sl_daemon_fixture_start(&fx);
	pid = (GPid)g_ascii_strtoll(g_subprocess_get_identifier(fx.daemon), NULL, 10);
	before = count_fds(pid);
	request = g_strdup_printf("POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n",
				  strlen(big), big);
	for (guint i = 0; i < 10; i++) {
		g_autofree char *reply = raw_exchange(&fx, request, 0);

		g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 413 "));
	}
	g_assert_true(sl_daemon_fixture_wait(&fx, fds_back_to_cb, GUINT_TO_POINTER(before)));
	sl_daemon_fixture_clear(&fx);
}

static gboolean
descriptors_used_up(SlDaemonFixture *fx, gpointer data)
{
	const char *pid = g_subprocess_get_identifier(fx->daemon);
	g_autofree char *path = g_strdup_printf("/proc/%s/fd", pid);
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	guint open_fds = 0;

	while (dir != NULL && g_dir_read_name(dir) != NULL)
		open_fds++;
	return open_fds >= fx->max_fds;
}

/*
 * Out of descriptors, accept() fails; libsoup's listener then stops for good. The daemon
 * must notice and accept again once descriptors are free.
 */
static void
test_accepts_again_after_fd_exhaustion_func(void)
{
	SlDaemonFixture fx;
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GPtrArray) idle = g_ptr_array_new_with_free_func(g_object_unref);
	g_autofree char *host_port = NULL;
	g_autoptr(JsonNode) status = NULL;
	guint code = 0;

	sl_daemon_fixture_init(&fx);
	fx.max_fds = 48;
	sl_daemon_fixture_start(&fx);

	/* idle connections until the daemon has no descriptor left for the next ones */
	host_port = g_strdup(fx.base_url + strlen("http://"));
	for (guint i = 0; i < 80; i++) {
		g_autoptr(GError) error = NULL;
		GSocketConnection *conn = g_socket_client_connect_to_host(client, host_port, 0,
									  NULL, &error);

		g_assert_no_error(error);
		g_ptr_array_add(idle, conn);
	}
	g_assert_true(sl_daemon_fixture_wait(&fx, descriptors_used_up, &fx));
	g_clear_pointer(&idle, g_ptr_array_unref);

	status = sl_daemon_fixture_request(&fx, "GET", "/api/server/status", NULL, &code);
	g_assert_cmpuint(code, ==, 200);
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

/* ---- shutdown ----------------------------------------------------------------------------- */

/* a stubborn instance, with a child, under a project whose changes wait for it */
static GPid
setup_stubborn(SlDaemonFixture *fx, guint grace_ms)
{
	g_autofree char *child_pid_file = NULL;
	g_autofree char *params = NULL;
	g_autofree char *config = g_strdup_printf("{\"stopGraceMs\":%u}", grace_ms);
	g_autofree char *instance_id = NULL;

	sl_daemon_fixture_init(fx);
	child_pid_file = sl_daemon_fixture_path(fx, "child.pid");
	params = g_strdup_printf("{\"sleepMs\":60000,\"ignoreTerm\":true,"
				 "\"stdout\":[\"ready\"],\"spawnChild\":\"%s\"}",
				 child_pid_file);
	sl_daemon_fixture_add_test_service(fx, "svc", test_schema);
	sl_daemon_fixture_add_project(fx, "stubborn", "svc", NULL, params);
	sl_daemon_fixture_write(fx, "config.json", config);
	sl_daemon_fixture_start(fx);
	instance_id = start_project(fx, "stubborn");
	g_assert_true(sl_daemon_fixture_wait(fx, stubborn_ready_cb, NULL));
	g_assert_true(sl_daemon_fixture_wait(fx, pid_file_written_cb, child_pid_file));
	return read_pid_file(child_pid_file);
}

/* the daemon exits by itself, with status 0 */
static void
wait_daemon_exit(SlDaemonFixture *fx)
{
	g_autoptr(GError) error = NULL;

	g_subprocess_wait(fx->daemon, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(fx->daemon));
	g_assert_cmpint(g_subprocess_get_exit_status(fx->daemon), ==, 0);
	g_clear_object(&fx->daemon);
}

/*
 * SIGTERM while a deletion waits out a stubborn instance: new requests get 503 meanwhile,
 * and the deletion, which the shutdown lets finish, gets its real answer.
 */
static void
test_shutdown_held_change_func(void)
{
	SlDaemonFixture fx;
	SlHeldRequest held = {0};
	g_autofree char *project_dir = NULL;
	GPid child = setup_stubborn(&fx, 2000);

	sl_held_request_start(&held, &fx, "DELETE", "/api/projects/stubborn", NULL);
	g_assert_true(sl_daemon_fixture_wait(&fx, refused_cb, (gpointer)&stubborn_busy));
	g_subprocess_send_signal(fx.daemon, SIGTERM);
	g_assert_true(sl_daemon_fixture_wait(&fx, refused_cb, (gpointer)&shutting_down));
	g_assert_true(sl_daemon_fixture_wait(&fx, refused_cb, (gpointer)&metrics_shutting_down));
	g_assert_cmpint(g_atomic_int_get(&held.done), ==, 0);

	sl_held_request_join(&held);
	g_assert_cmpuint(held.status, ==, 204);
	project_dir = sl_daemon_fixture_path(&fx, "projects/stubborn");
	g_assert_false(g_file_test(project_dir, G_FILE_TEST_EXISTS));
	wait_daemon_exit(&fx);
	g_assert_false(sl_daemon_fixture_pid_alive(child));
	sl_held_request_clear(&held);
	sl_daemon_fixture_clear(&fx);
}

/* a second SIGTERM does not wait out the grace period, and leaves no instance behind */
static void
test_shutdown_second_signal_func(void)
{
	SlDaemonFixture fx;
	GPid child = setup_stubborn(&fx, 60000);

	g_subprocess_send_signal(fx.daemon, SIGTERM);
	g_assert_true(sl_daemon_fixture_wait(&fx, refused_cb, (gpointer)&shutting_down));
	g_subprocess_send_signal(fx.daemon, SIGTERM);
	wait_daemon_exit(&fx);
	g_assert_true(sl_daemon_fixture_wait(&fx, pid_gone_cb, GINT_TO_POINTER(child)));
	sl_daemon_fixture_clear(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/daemon/status", test_status_func);
	g_test_add_func("/daemon/services", test_services_func);
	g_test_add_func("/daemon/service-schema-routes", test_service_schema_routes_func);
	g_test_add_func("/daemon/projects/read", test_projects_read_func);
	g_test_add_func("/daemon/projects/create", test_projects_create_func);
	g_test_add_func("/daemon/projects/update-delete", test_projects_update_delete_func);
	g_test_add_func("/daemon/instances/start-stop", test_start_stop_func);
	g_test_add_func("/daemon/instances/start-refused", test_start_refused_func);
	g_test_add_func("/daemon/instances/stop-grace-kill", test_stop_grace_kill_func);
	g_test_add_func("/daemon/instances/start-failed", test_start_failed_func);
	g_test_add_func("/daemon/instances/start-timeout", test_start_timeout_func);
	g_test_add_func("/daemon/projects/delete-running", test_delete_running_func);
	g_test_add_func("/daemon/projects/busy", test_project_busy_func);
	g_test_add_func("/daemon/http/errors", test_http_errors_func);
	g_test_add_func("/daemon/http/access", test_access_func);
	g_test_add_func("/daemon/http/cors-configured", test_cors_configured_func);
	g_test_add_func("/daemon/fixture-data-root", test_fixture_data_root_func);
	g_test_add_func("/daemon/drivers", test_drivers_func);
	g_test_add_func("/daemon/instances/js-service-guard", test_js_service_guard_func);
	g_test_add_func("/daemon/http/oversized-announced", test_oversized_announced_func);
	g_test_add_func("/daemon/http/oversized-chunked", test_oversized_chunked_func);
	g_test_add_func("/daemon/http/duplicate-host", test_duplicate_host_func);
	g_test_add_func("/daemon/http/connection-close-head", test_connection_close_and_head_func);
	g_test_add_func("/daemon/http/deep-json", test_deep_json_func);
	g_test_add_func("/daemon/sighup-reload", test_sighup_reload_func);
	g_test_add_func("/daemon/sighup-restart-only", test_sighup_restart_only_func);
	g_test_add_func("/daemon/shutdown/held-change", test_shutdown_held_change_func);
	g_test_add_func("/daemon/shutdown/second-signal", test_shutdown_second_signal_func);
	g_test_add_func("/daemon/server-log", test_server_log_func);
	g_test_add_func("/daemon/server-log/rotation", test_server_log_rotation_func);
	g_test_add_func("/daemon/server-log/unwritable", test_server_log_unwritable_func);
	g_test_add_func("/daemon/project-log-warned-once", test_project_log_warned_once_func);
	g_test_add_func("/daemon/projects/delete-hand-removed", test_delete_hand_removed_func);
	g_test_add_func("/daemon/instances/daemon-killed", test_daemon_killed_func);
	g_test_add_func("/daemon/webui/serve", test_webui_func);
	g_test_add_func("/daemon/webui/off", test_webui_off_func);
	g_test_add_func("/daemon/access/token", test_token_func);
	g_test_add_func("/daemon/access/token-file-errors", test_token_file_errors_func);
	g_test_add_func("/daemon/access/event-stream", test_stream_access_func);
	g_test_add_func("/daemon/metrics", test_metrics_func);
	g_test_add_func("/daemon/example-config", test_example_config_func);
	g_test_add_func("/daemon/accepts-again-after-fd-exhaustion",
			test_accepts_again_after_fd_exhaustion_func);
	return g_test_run();
}
