package dev.jgpt.tokenizer;

import dev.jgpt.common.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Finds the default corpus, tiny Shakespeare, in this order:
 * <ol>
 *   <li>the file given with {@code --data};</li>
 *   <li>{@code $JGPT_DATA_DIR/tinyshakespeare.txt};</li>
 *   <li>the cache, {@code ~/.cache/jgpt/tinyshakespeare.txt} ({@code $XDG_CACHE_HOME/jgpt} if set);</li>
 *   <li>a download into the cache, once, checked against the known sha256 and written atomically.</li>
 * </ol>
 * When all fail (offline, no copy) the error says where to put the file.
 */
public final class Corpus {
    public static final String FILE_NAME = "tinyshakespeare.txt";
    public static final URI TINY_SHAKESPEARE_URL = URI.create(
            "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt");
    public static final String TINY_SHAKESPEARE_SHA256 =
            "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed";

    /** Opens a URL for reading: the download step, replaceable in tests. */
    @FunctionalInterface
    public interface Fetcher {
        InputStream open(URI uri) throws IOException;
    }

    private final Map<String, String> env;
    private final Path cacheDir;
    private final URI source;
    private final String sha256;
    private final Fetcher fetcher;
    private final Consumer<String> log;

    public Corpus(Map<String, String> env, Path cacheDir, URI source, String sha256, Fetcher fetcher,
                  Consumer<String> log) {
        this.env = env;
        this.cacheDir = cacheDir;
        this.source = source;
        this.sha256 = sha256;
        this.fetcher = fetcher;
        this.log = log;
    }

    /** The real environment, cache directory and URL; progress messages go to stderr. */
    public static Corpus defaults() {
        Map<String, String> env = System.getenv();
        return new Corpus(env, defaultCacheDir(env), TINY_SHAKESPEARE_URL, TINY_SHAKESPEARE_SHA256,
                Corpus::fetch, System.err::println);
    }

    /** Shorthand for {@code defaults().resolve(data)}. */
    public static Path resolveTinyShakespeare(Optional<Path> data) throws IOException {
        return defaults().resolve(data);
    }

    /** jgpt's cache folder: {@code $XDG_CACHE_HOME/jgpt} if set, else {@code ~/.cache/jgpt}. */
    public static Path defaultCacheDir(Map<String, String> env) {
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("jgpt");
    }

    /** The corpus file: see the class comment for the order. */
    public Path resolve(Optional<Path> data) throws IOException {
        if (data.isPresent()) {
            Path file = data.get();
            if (Files.isDirectory(file)) {
                throw new IllegalArgumentException("--data " + file + " is a folder; give a text file (UTF-8)");
            }
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("corpus not found: " + file);
            }
            return file;
        }
        String dataDir = env.get("JGPT_DATA_DIR");
        if (dataDir != null && !dataDir.isBlank() && Files.isRegularFile(Path.of(dataDir, FILE_NAME))) {
            return Path.of(dataDir, FILE_NAME);
        }
        Path cached = cacheDir.resolve(FILE_NAME);
        if (Files.isRegularFile(cached)) {
            String actual = sha256(cached);
            if (actual.equals(sha256)) {
                return cached;
            }
            log.accept("jgpt: cached " + cached + " has sha256 " + actual + ", expected " + sha256
                    + "; downloading it again");
        }
        try {
            download(cached);
            return cached;
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("tiny Shakespeare is not available and could not be downloaded from "
                    + source + " (" + describe(e) + "). Put the file (sha256 " + sha256 + ") at " + cached
                    + (dataDir != null && !dataDir.isBlank() ? " or " + Path.of(dataDir, FILE_NAME) : "")
                    + ", set JGPT_DATA_DIR to a directory holding " + FILE_NAME + ", or pass --data FILE", e);
        }
    }

    private void download(Path target) throws IOException {
        log.accept("jgpt: downloading tiny Shakespeare from " + source + " to " + target);
        Files.createDirectories(target.getParent());
        MessageDigest digest = newSha256();
        Path tmp = AtomicFiles.tempSibling(target);
        try {
            try (InputStream in = new DigestInputStream(fetcher.open(source), digest);
                 OutputStream out = Files.newOutputStream(tmp, java.nio.file.StandardOpenOption.CREATE_NEW,
                         java.nio.file.StandardOpenOption.WRITE)) {
                in.transferTo(out);
            }
            String actual = HexFormat.of().formatHex(digest.digest());
            if (!actual.equals(sha256)) {
                throw new IOException("the downloaded file has sha256 " + actual + ", expected " + sha256);
            }
            AtomicFiles.move(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The default fetcher: HTTP(S) with timeouts and redirects; {@code file:} URLs read directly. */
    static InputStream fetch(URI uri) throws IOException {
        if ("file".equals(uri.getScheme())) {
            return Files.newInputStream(Path.of(uri));
        }
        HttpClient client = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(15))
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).GET().build();
        try {
            HttpResponse<InputStream> response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
            if (response.statusCode() != 200) {
                response.body().close();
                throw new IOException("HTTP " + response.statusCode());
            }
            return response.body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest digest = newSha256();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }
}
