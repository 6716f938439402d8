package dev.jgpt.tokenizer;

import dev.jgpt.common.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** Resolution order, hash checks and the offline message; no test touches the network. */
class CorpusTest {
    @TempDir
    Path tmp;

    final List<String> log = new ArrayList<>();
    final Corpus.Fetcher noNetwork = uri -> {
        throw new IOException("network is unreachable");
    };

    Corpus corpus(Map<String, String> env, URI source, Corpus.Fetcher fetcher) {
        return new Corpus(env, tmp.resolve("cache"), source, Corpus.TINY_SHAKESPEARE_SHA256, fetcher, log::add);
    }

    @Test
    void explicitDataWins() throws Exception {
        Path mine = Files.writeString(tmp.resolve("mine.txt"), "x");
        Path dataDir = Files.createDirectories(tmp.resolve("data"));
        Files.writeString(dataDir.resolve(Corpus.FILE_NAME), "y");
        Corpus c = corpus(Map.of("JGPT_DATA_DIR", dataDir.toString()), Corpus.TINY_SHAKESPEARE_URL, noNetwork);
        assertEquals(mine, c.resolve(Optional.of(mine)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> c.resolve(Optional.of(tmp.resolve("nope.txt"))));
        assertTrue(e.getMessage().contains("corpus not found"), e.getMessage());
    }

    @Test
    void thenTheDataDirectory() throws Exception {
        Path dataDir = Files.createDirectories(tmp.resolve("data"));
        Files.writeString(dataDir.resolve(Corpus.FILE_NAME), "y");
        Corpus c = corpus(Map.of("JGPT_DATA_DIR", dataDir.toString()), Corpus.TINY_SHAKESPEARE_URL, noNetwork);
        assertEquals(dataDir.resolve(Corpus.FILE_NAME), c.resolve(Optional.empty()));
    }

    @Test
    void thenAVerifiedCacheWithoutFetching() throws Exception {
        Path cached = Files.createDirectories(tmp.resolve("cache")).resolve(Corpus.FILE_NAME);
        Files.copy(SharedData.shakespeare(), cached);
        Corpus c = corpus(Map.of("JGPT_DATA_DIR", tmp.resolve("empty-dir").toString()), Corpus.TINY_SHAKESPEARE_URL,
                uri -> fail("must not fetch"));
        assertEquals(cached, c.resolve(Optional.empty()));
    }

    @Test
    void elseDownloadsOnceAndVerifies() throws Exception {
        URI source = SharedData.shakespeare().toUri();     // a file: URL stands in for the web
        int[] fetches = {0};
        Corpus c = corpus(Map.of(), source, uri -> {
            fetches[0]++;
            return Corpus.fetch(uri);
        });
        Path got = c.resolve(Optional.empty());
        assertEquals(tmp.resolve("cache").resolve(Corpus.FILE_NAME), got);
        assertArrayEquals(Files.readAllBytes(SharedData.shakespeare()), Files.readAllBytes(got));
        assertEquals(got, c.resolve(Optional.empty()));
        assertEquals(1, fetches[0], "downloaded once, then cached");
        assertTrue(log.get(0).contains("downloading"), log.toString());
        assertEquals(List.of(Corpus.FILE_NAME), list(tmp.resolve("cache")));
    }

    @Test
    void aCorruptCacheIsReplaced() throws Exception {
        Path cached = Files.createDirectories(tmp.resolve("cache")).resolve(Corpus.FILE_NAME);
        Files.writeString(cached, "truncated");
        Corpus c = corpus(Map.of(), SharedData.shakespeare().toUri(), Corpus::fetch);
        assertEquals(cached, c.resolve(Optional.empty()));
        assertEquals(Corpus.TINY_SHAKESPEARE_SHA256, Corpus.sha256(cached));
    }

    @Test
    void wrongHashIsRejectedAndNothingIsCached() throws Exception {
        Path wrong = Files.writeString(tmp.resolve("wrong.txt"), "not Shakespeare");
        Corpus c = corpus(Map.of(), wrong.toUri(), Corpus::fetch);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.resolve(Optional.empty()));
        assertTrue(e.getMessage().contains("the downloaded file has sha256"), e.getMessage());
        assertEquals(List.of(), list(tmp.resolve("cache")), "no partial or unverified file left");
    }

    @Test
    void offlineWithoutACopySaysWhereToPutTheFile() {
        Path dataDir = tmp.resolve("data");
        Corpus c = corpus(Map.of("JGPT_DATA_DIR", dataDir.toString()), Corpus.TINY_SHAKESPEARE_URL, noNetwork);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.resolve(Optional.empty()));
        String m = e.getMessage();
        assertTrue(m.contains("network is unreachable"), m);
        assertTrue(m.contains(tmp.resolve("cache").resolve(Corpus.FILE_NAME).toString()), m);
        assertTrue(m.contains(dataDir.resolve(Corpus.FILE_NAME).toString()), m);
        assertTrue(m.contains("--data FILE"), m);
        assertTrue(m.contains(Corpus.TINY_SHAKESPEARE_SHA256), m);
    }

    @Test
    void cacheDirectoryFollowsXdg() {
        assertEquals(Path.of("/x/cache/jgpt"), Corpus.defaultCacheDir(Map.of("XDG_CACHE_HOME", "/x/cache")));
        assertEquals(Path.of(System.getProperty("user.home"), ".cache", "jgpt"), Corpus.defaultCacheDir(Map.of()));
    }

    private static List<String> list(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
