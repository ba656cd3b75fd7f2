package dev.thaw.load;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;

/**
 * The daemon's base URL, resolved once, before the run: the address every connection opens, the
 * Host header and the path prefix every request carries. Errors name {@code --target}, the
 * option the URL comes from.
 */
record Target(String base, InetSocketAddress address, String hostHeader, String basePath) {
    static Target parse(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--target: '" + url + "' is not a URL");
        }
        if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("--target: '" + url + "' must be an http:// URL with a host");
        }
        int p = uri.getPort() < 0 ? 80 : uri.getPort();
        InetAddress addr;
        try {
            addr = InetAddress.getByName(uri.getHost());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--target: unknown host '" + uri.getHost() + "'");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return new Target(url, new InetSocketAddress(addr, p), uri.getHost() + ":" + p, path);
    }
}
