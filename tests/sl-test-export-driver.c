/*
 * A fake driver for test-driver-scan. The tests link it into a driver folder as
 * `drivers/<name>/stdio.drv.<name>` and run a scan, which calls
 *
 *   stdio.drv.<name> --export-meta=<folder>/driver.meta.json
 *
 * Each run leaves traces the tests read: `<folder>/pid` (its pid), `<folder>/env` (its
 * PATH and working folder), and the lines `start <name>` and `end <name>` appended to
 * `<drivers>/../export.log` (one write each, O_APPEND, so runs in parallel keep their
 * lines whole). What it does in between is read from `<folder>/behaviour`, one line:
 *
 *   ok ID [MS]          sleep MS (default 0), write a meta with info.id ID, exit 0
 *   wait-peers N ID [MS]  wait until the log holds N `start` lines (at most 5 s), then
 *                       as ok
 *   hang                overwrite the meta with "{", fork a child that hangs too (its
 *                       pid in `<folder>/child-pid`); both wait 30 s, far beyond any
 *                       test, so that a failed test leaves nothing behind for long;
 *                       an `end` line then tells that nobody killed it
 *   exit CODE           overwrite the meta with garbage, exit CODE
 *   invalid             write "{\"info\":" and exit 0
 *   huge ID             write a valid meta of 9 MiB and exit 0
 *   noid                write a JSON object without info.id and exit 0
 *   array               write [1] and exit 0
 *   nowrite             exit 0 without writing
 *   vanish              overwrite the meta with garbage, move the folder to
 *                       `<drivers>/../vanished-<name>`, exit 1
 *
 * The meta is written in place (truncate, then write), as a careless driver would.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HUGE_BYTES (9 * 1024 * 1024)
#define HANG_MS 30000

static void
sleep_ms(gint64 ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void
append_line(const char *path, const char *line)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	g_autofree char *text = g_strconcat(line, "\n", NULL);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		exit(70);
	close(fd);
}

/* in place, not atomically: a failing export may leave a broken file behind */
static void
write_meta(const char *path, const char *text, gsize length)
{
	FILE *out = fopen(path, "w");

	if (out == NULL || fwrite(text, 1, length, out) != length || fclose(out) != 0)
		exit(71);
}

static void
write_text(const char *path, const char *text)
{
	write_meta(path, text, strlen(text));
}

static void
write_id_meta(const char *path, const char *id)
{
	g_autofree char *text =
	    g_strdup_printf("{\"info\": {\"id\": \"%s\", \"name\": \"exported\"}}\n", id);

	write_text(path, text);
}

static void
write_huge_meta(const char *path, const char *id)
{
	g_autofree char *head = g_strdup_printf("{\"info\": {\"id\": \"%s\"}, \"pad\": \"", id);
	GString *text = g_string_sized_new(HUGE_BYTES + 64);

	g_string_append(text, head);
	while (text->len < HUGE_BYTES)
		g_string_append_c(text, 'x');
	g_string_append(text, "\"}\n");
	write_meta(path, text->str, text->len);
	g_string_free(text, TRUE);
}

static guint
count_starts(const char *log)
{
	g_autofree char *contents = NULL;
	guint n = 0;

	if (!g_file_get_contents(log, &contents, NULL, NULL))
		return 0;
	for (const char *p = contents; (p = strstr(p, "start ")) != NULL; p++) {
		if (p == contents || p[-1] == '\n')
			n++;
	}
	return n;
}

static void
wait_peers(const char *log, guint n)
{
	for (guint i = 0; i < 500 && count_starts(log) < n; i++)
		sleep_ms(10);
}

/* a grandchild in the same process group: only a kill of the whole group reaches it */
static void
hang(const char *dir, const char *meta)
{
	g_autofree char *child_file = g_build_filename(dir, "child-pid", NULL);
	g_autofree char *child_text = NULL;
	pid_t child;

	write_text(meta, "{");
	child = fork();
	if (child < 0)
		exit(72);
	if (child == 0) {
		sleep_ms(HANG_MS);
		_exit(0);
	}
	child_text = g_strdup_printf("%d", (int)child);
	if (!g_file_set_contents(child_file, child_text, -1, NULL))
		exit(73);
	sleep_ms(HANG_MS);
}

static void
write_traces(const char *dir, const char *log, const char *name)
{
	g_autofree char *pid_file = g_build_filename(dir, "pid", NULL);
	g_autofree char *env_file = g_build_filename(dir, "env", NULL);
	g_autofree char *pid_text = g_strdup_printf("%d", (int)getpid());
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *env_text =
	    g_strdup_printf("PATH=%s\ncwd=%s\n", g_getenv("PATH"), cwd);
	g_autofree char *line = g_strconcat("start ", name, NULL);

	if (!g_file_set_contents(env_file, env_text, -1, NULL))
		exit(74);
	if (!g_file_set_contents(pid_file, pid_text, -1, NULL))
		exit(74);
	append_line(log, line);
}

/* as if someone moved the folder away while the scan ran */
static int
vanish(const char *dir, const char *log, const char *name, const char *meta)
{
	g_autofree char *root = g_path_get_dirname(log);
	g_autofree char *target_name = g_strconcat("vanished-", name, NULL);
	g_autofree char *target = g_build_filename(root, target_name, NULL);

	write_text(meta, "garbage");
	if (rename(dir, target) != 0)
		exit(75);
	return 1;
}

static int
run(const char *dir, const char *log, const char *name, const char *meta, char **words)
{
	const char *mode = words[0] != NULL ? words[0] : "";
	guint n_words = g_strv_length(words);

	if (g_str_equal(mode, "ok") && n_words >= 2) {
		sleep_ms(n_words >= 3 ? g_ascii_strtoll(words[2], NULL, 10) : 0);
		write_id_meta(meta, words[1]);
	} else if (g_str_equal(mode, "wait-peers") && n_words >= 3) {
		wait_peers(log, (guint)g_ascii_strtoull(words[1], NULL, 10));
		sleep_ms(n_words >= 4 ? g_ascii_strtoll(words[3], NULL, 10) : 0);
		write_id_meta(meta, words[2]);
	} else if (g_str_equal(mode, "hang")) {
		hang(dir, meta);
	} else if (g_str_equal(mode, "exit") && n_words >= 2) {
		write_text(meta, "garbage");
		return (int)g_ascii_strtoll(words[1], NULL, 10);
	} else if (g_str_equal(mode, "invalid")) {
		write_text(meta, "{\"info\":");
	} else if (g_str_equal(mode, "huge") && n_words >= 2) {
		write_huge_meta(meta, words[1]);
	} else if (g_str_equal(mode, "noid")) {
		write_text(meta, "{\"info\": {\"name\": \"no id\"}}");
	} else if (g_str_equal(mode, "array")) {
		write_text(meta, "[1]");
	} else if (g_str_equal(mode, "vanish")) {
		return vanish(dir, log, name, meta);
	} else if (!g_str_equal(mode, "nowrite")) {
		return 64;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	g_autofree char *dir = g_path_get_dirname(argv[0]);
	g_autofree char *name = g_path_get_basename(dir);
	g_autofree char *drivers = g_path_get_dirname(dir);
	g_autofree char *log = g_build_filename(drivers, "..", "export.log", NULL);
	g_autofree char *behaviour_file = g_build_filename(dir, "behaviour", NULL);
	g_autofree char *behaviour = NULL;
	g_auto(GStrv) words = NULL;
	g_autofree char *end = g_strconcat("end ", name, NULL);
	const char *meta;
	int code;

	if (argc != 2 || !g_str_has_prefix(argv[1], "--export-meta="))
		return 64;
	meta = argv[1] + strlen("--export-meta=");
	if (!g_file_get_contents(behaviour_file, &behaviour, NULL, NULL))
		return 66;

	write_traces(dir, log, name);
	words = g_strsplit_set(g_strstrip(behaviour), " \t", -1);
	code = run(dir, log, name, meta, words);
	append_line(log, end);
	return code;
}
