package dev.jgpt.common;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * File errors in words. Java's own messages are often just a path ({@code AccessDeniedException:
 * /data/x}); these say what went wrong with which file: "/data/x: permission denied".
 */
public final class IoErrors {
    private IoErrors() {}

    /** "FILE: reason" for a file-system error; the reason alone (the message, or the class name) for any other. */
    public static String describe(IOException e) {
        if (e instanceof FileSystemException fs && fs.getReason() == null && fs.getOtherFile() == null
                && fs.getFile() != null && fs.getFile().contains(": ")) {
            return fs.getFile();   // thrown as new NoSuchFileException("PATH: what is missing"): already a sentence
        }
        if (e instanceof FileSystemException fs) {
            String where = fs.getFile() == null ? "" : fs.getFile()
                    + (fs.getOtherFile() == null ? "" : " -> " + fs.getOtherFile()) + ": ";
            return where + reason(fs);
        }
        return reason(e);
    }

    /** As {@link #describe(IOException)}, leaving out the file when it is {@code about}, which the caller names. */
    public static String describe(IOException e, Path about) {
        if (e instanceof FileSystemException fs && fs.getOtherFile() == null && fs.getFile() != null
                && Path.of(fs.getFile()).equals(about)) {
            return reason(e);
        }
        return describe(e);
    }

    /** Why a file-system operation failed, in words, without the file. */
    public static String reason(IOException e) {
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            return lowerFirst(fs.getReason());
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "directory not empty";
        }
        if (e instanceof FileSystemException) {
            return e.getClass().getSimpleName();
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : lowerFirst(m);
    }

    /**
     * Creates the folder an option names ({@code flag}: "--out") with its parents; true if it was not
     * there. Fails with one line naming the option, the folder and the reason.
     */
    public static boolean createFolder(String flag, Path dir) {
        boolean created = !Files.exists(dir);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot create " + flag + " " + dir + ": " + describe(e, dir), e);
        }
        return created;
    }

    /** "No space left on device" reads as "no space left on device" after a colon. */
    private static String lowerFirst(String s) {
        return s.length() > 1 && Character.isUpperCase(s.charAt(0)) && Character.isLowerCase(s.charAt(1))
                ? Character.toLowerCase(s.charAt(0)) + s.substring(1) : s;
    }
}
