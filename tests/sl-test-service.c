/*
 * A fake service for test-instance. It accepts both command lines the daemon builds:
 *
 *   JavaScript style: sl-test-service <dir> --config-file=F --guard=NAME --data-root=D
 *   native style:     sl-test-service --config-file=F --data-root=D   (STDIOLINK_GUARD=NAME)
 *
 * and, like the real runtime, connects to the process guard and exits 1 if it cannot or
 * when the connection drops. What it does next is read from its JSON config:
 *
 *   "report": path        write {argv, cwd, guard, guardConnected, path, guardEnv} there
 *   "spawnChild": path    fork a child that sleeps (same process group), write its pid there
 *   "escapeChild": path   same, but the child leaves the group (setsid), holds the pipes
 *                         and exits after "escapeMs" (default 3000)
 *   "ignoreTerm": bool    ignore SIGTERM
 *   "stdout"/"stderr": [lines]   printed with a newline each
 *   "stdoutRaw"/"stderrRaw": s   printed as is
 *   "bigPartial": n       n bytes of 'x' on stdout, no newline
 *   "sleepMs": n          then sleep
 *   "crash": "segv"|"abort"
 *   "exitCode": n         finally exit with this code (default 0)
 */

#include "config.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

typedef struct {
	char *service_dir;
	char *config_file;
	char *guard;
	char *data_root;
} Args;

static void
sleep_ms(gint64 ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void *
guard_watch_thread(void *data)
{
	int fd = GPOINTER_TO_INT(data);
	char c;

	/* the server never sends anything: any return means the guard is gone */
	for (;;) {
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
	}
	return NULL;
}

static char *
guard_path(const char *name)
{
	const char *tmp = g_getenv("TMPDIR");
	g_autofree char *dir = g_strdup(tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	gsize len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';
	return g_strconcat(dir, "/", name, NULL);
}

static gboolean
connect_guard(const char *name)
{
	g_autofree char *path = guard_path(name);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	pthread_t thread;

	if (strlen(path) >= sizeof(addr.sun_path))
		return FALSE;
	strcpy(addr.sun_path, path);

	/* the runtime tries for 3 s */
	for (int attempt = 0; attempt < 30; attempt++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return FALSE;
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
			pthread_create(&thread, NULL, guard_watch_thread, GINT_TO_POINTER(fd));
			pthread_detach(thread);
			return TRUE;
		}
		close(fd);
		sleep_ms(100);
	}
	return FALSE;
}

static void
parse_args(int argc, char **argv, Args *args)
{
	for (int i = 1; i < argc; i++) {
		if (g_str_has_prefix(argv[i], "--config-file="))
			args->config_file = argv[i] + strlen("--config-file=");
		else if (g_str_has_prefix(argv[i], "--guard="))
			args->guard = argv[i] + strlen("--guard=");
		else if (g_str_has_prefix(argv[i], "--data-root="))
			args->data_root = argv[i] + strlen("--data-root=");
		else
			args->service_dir = argv[i];
	}
	if (args->guard == NULL)
		args->guard = (char *)g_getenv("STDIOLINK_GUARD");
}

static void
write_file(const char *path, const char *text)
{
	/* g_file_set_contents() renames into place, so readers never see half a file */
	g_file_set_contents(path, text, -1, NULL);
}

static void
write_report(const char *path, int argc, char **argv, const Args *args, gboolean connected)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *text = NULL;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "argv");
	json_builder_begin_array(b);
	for (int i = 0; i < argc; i++)
		json_builder_add_string_value(b, argv[i]);
	json_builder_end_array(b);
	json_builder_set_member_name(b, "cwd");
	json_builder_add_string_value(b, cwd);
	json_builder_set_member_name(b, "guard");
	json_builder_add_string_value(b, args->guard);
	json_builder_set_member_name(b, "guardConnected");
	json_builder_add_boolean_value(b, connected);
	json_builder_set_member_name(b, "path");
	json_builder_add_string_value(b, g_getenv("PATH"));
	json_builder_set_member_name(b, "guardEnv");
	json_builder_add_string_value(b, g_getenv("STDIOLINK_GUARD"));
	json_builder_end_object(b);

	root = json_builder_get_root(b);
	text = json_to_string(root, FALSE);
	write_file(path, text);
}

static void
spawn_child(const char *pid_file, gboolean escape, gint64 escape_ms)
{
	g_autofree char *text = NULL;
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready) != 0)
		exit(3);
	pid = fork();
	if (pid < 0)
		exit(3);
	if (pid == 0) {
		/* only async-signal-safe calls from here on */
		if (escape)
			setsid();
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		close(ready[0]);
		close(ready[1]);
		if (escape) {
			sleep_ms(escape_ms);
			_exit(0);
		}
		for (;;)
			pause();
	}

	/* the child is where it should be before anyone learns its pid */
	close(ready[1]);
	while (read(ready[0], &c, 1) < 0 && errno == EINTR)
		;
	close(ready[0]);
	text = g_strdup_printf("%d", (int)pid);
	write_file(pid_file, text);
}

static void
print_lines(JsonObject *config, const char *member, FILE *out)
{
	JsonArray *lines;

	if (!json_object_has_member(config, member))
		return;
	lines = json_object_get_array_member(config, member);
	for (guint i = 0; i < json_array_get_length(lines); i++)
		fprintf(out, "%s\n", json_array_get_string_element(lines, i));
	fflush(out);
}

static void
print_raw(JsonObject *config, const char *member, FILE *out)
{
	if (!json_object_has_member(config, member))
		return;
	fputs(json_object_get_string_member(config, member), out);
	fflush(out);
}

static void
crash(const char *how)
{
	struct rlimit no_core = {0, 0};

	/* no core files in the test workspace */
	setrlimit(RLIMIT_CORE, &no_core);
	if (g_strcmp0(how, "abort") == 0)
		abort();

	/* the default action, so that a sanitizer's handler cannot turn it into an abort */
	signal(SIGSEGV, SIG_DFL);
	raise(SIGSEGV);
}

int
main(int argc, char **argv)
{
	Args args = {0};
	g_autoptr(JsonParser) parser = json_parser_new();
	JsonObject *config;
	gboolean connected = FALSE;

	parse_args(argc, argv, &args);
	if (args.config_file == NULL ||
	    !json_parser_load_from_file(parser, args.config_file, NULL)) {
		fprintf(stderr, "Error: cannot read config\n");
		return 2;
	}
	config = json_node_get_object(json_parser_get_root(parser));

	if (args.guard != NULL) {
		connected = connect_guard(args.guard);
		if (!connected) {
			fprintf(stderr, "Error: cannot connect to process guard\n");
			return 1;
		}
	}

	if (json_object_get_boolean_member_with_default(config, "ignoreTerm", FALSE))
		signal(SIGTERM, SIG_IGN);
	if (json_object_has_member(config, "spawnChild"))
		spawn_child(json_object_get_string_member(config, "spawnChild"), FALSE, 0);
	if (json_object_has_member(config, "escapeChild"))
		spawn_child(json_object_get_string_member(config, "escapeChild"), TRUE,
			    json_object_get_int_member_with_default(config, "escapeMs", 3000));
	if (json_object_has_member(config, "report"))
		write_report(json_object_get_string_member(config, "report"), argc, argv, &args,
			     connected);

	print_lines(config, "stdout", stdout);
	print_lines(config, "stderr", stderr);
	print_raw(config, "stdoutRaw", stdout);
	print_raw(config, "stderrRaw", stderr);
	if (json_object_has_member(config, "bigPartial")) {
		gint64 n = json_object_get_int_member(config, "bigPartial");

		for (gint64 i = 0; i < n; i++)
			fputc('x', stdout);
		fflush(stdout);
	}

	sleep_ms(json_object_get_int_member_with_default(config, "sleepMs", 0));
	if (json_object_has_member(config, "crash"))
		crash(json_object_get_string_member(config, "crash"));
	/*
	 * Leave without atexit handlers, as the guard thread would have it anyway: this fake's
	 * own leaks are not under test, and under LeakSanitizer a report about that thread,
	 * still running at exit, would change the exit status the tests check.
	 */
	fflush(stdout);
	fflush(stderr);
	_exit((int)json_object_get_int_member_with_default(config, "exitCode", 0));
}
