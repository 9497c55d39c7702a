#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "stdiolink.h"

/*
 * A driver built with the driver helper for the tests: each command exercises one thing
 * the helper or a host must cope with (defaults in nested objects, late replies, a handler
 * that forgets to answer, logging, a crash in the middle of a command, a flood of output).
 */

static const char echo_meta[] =
    "{\"name\":\"echo\",\"description\":\"Answers with the filled params\",\"params\":["
    "{\"name\":\"opts\",\"type\":\"object\",\"fields\":["
    "{\"name\":\"level\",\"type\":\"int\",\"default\":1,\"min\":0,\"max\":9},"
    "{\"name\":\"tag\",\"type\":\"string\",\"default\":\"x\"}]},"
    "{\"name\":\"mode\",\"type\":\"enum\",\"enum\":[\"a\",\"b\"],\"default\":\"a\"},"
    "{\"name\":\"text\",\"type\":\"string\",\"pattern\":\"^[a-z]*$\"}]}";

static const char later_meta[] =
    "{\"name\":\"later\",\"params\":[{\"name\":\"ms\",\"type\":\"int\",\"default\":20}]}";

static const char *const simple_commands[] = {"log", "forget", "crash", "exit", "flood",
					       "hang", "raw"};

static void
echo_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	g_autoptr(JsonNode) data = stdiolink_json_node_new_object(json_object_ref(params));

	stdiolink_driver_reply_event(reply, NULL, data);
	stdiolink_driver_reply_done(reply, data);
}

static gboolean
later_done_cb(gpointer user_data)
{
	StdiolinkDriverReply *reply = user_data;

	stdiolink_driver_reply_event(reply, "tick", NULL);
	stdiolink_driver_reply_done(reply, NULL);
	return G_SOURCE_REMOVE;
}

static void
later_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	g_timeout_add_full(G_PRIORITY_DEFAULT, (guint)json_object_get_int_member(params, "ms"),
			   later_done_cb, stdiolink_driver_reply_ref(reply),
			   (GDestroyNotify)stdiolink_driver_reply_unref);
}

static void
write_raw(const char *text)
{
	gsize length = strlen(text);

	while (length > 0) {
		ssize_t n = write(STDOUT_FILENO, text, length);

		if (n <= 0)
			return;
		text += n;
		length -= (gsize)n;
	}
}

/* 9 MiB without a newline: a host must stop buffering at 8 MiB */
static void
flood(void)
{
	g_autofree char *block = g_malloc(65536);

	memset(block, 'x', 65536);
	block[65535] = '\0';
	for (guint i = 0; i < 9 * 16 + 1; i++)
		write_raw(block);
}

static void
simple_cb(StdiolinkDriverReply *reply, JsonObject *params, gpointer user_data)
{
	const char *cmd = stdiolink_driver_reply_get_command(reply);
	JsonNode *text = json_object_get_member(params, "text");

	if (g_str_equal(cmd, "log")) {
		g_message("a message");
		g_info("some info");
		g_debug("a debug line");
		g_warning("a warning");
		stdiolink_driver_reply_done(reply, NULL);
	} else if (g_str_equal(cmd, "crash")) {
		stdiolink_driver_reply_event(reply, "before-crash", NULL);
		kill(getpid(), SIGKILL);
	} else if (g_str_equal(cmd, "exit")) {
		exit((int)json_object_get_int_member_with_default(params, "code", 0));
	} else if (g_str_equal(cmd, "flood")) {
		flood();
		pause();
	} else if (g_str_equal(cmd, "hang")) {
		stdiolink_driver_reply_event(reply, "hanging", NULL);
		stdiolink_driver_reply_ref(reply);
	} else if (g_str_equal(cmd, "raw")) {
		write_raw(text != NULL ? json_node_get_string(text) : "not json");
		write_raw("\n");
		stdiolink_driver_reply_done(reply, NULL);
	}
	/* "forget" returns without a reply */
}

int
main(int argc, char **argv)
{
	g_autoptr(StdiolinkDriverHelper) helper = NULL;
	g_autoptr(GError) error = NULL;

	/* without an id there is no metadata to export */
	helper = stdiolink_driver_helper_new(g_getenv("SL_TEST_DRIVER_NO_ID") ? "" : "test.driver",
					     "Test driver", "0.1");
	g_assert_true(stdiolink_driver_helper_add_command(helper, echo_meta, echo_cb, NULL,
							  &error));
	g_assert_true(stdiolink_driver_helper_add_command(helper, later_meta, later_cb, NULL,
							  &error));
	for (guint i = 0; i < G_N_ELEMENTS(simple_commands); i++) {
		g_autofree char *meta = g_strconcat("{\"name\":\"", simple_commands[i], "\"}",
						    NULL);

		g_assert_true(stdiolink_driver_helper_add_command(helper, meta, simple_cb, NULL,
								  &error));
	}
	return stdiolink_driver_helper_run(helper, argc, argv);
}
