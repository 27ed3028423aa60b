// Correct S2S requests built by java.net.URLEncoder (UTF-8), one value at a time.
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

public class JavaEncoder {
    public static void main(String[] a) throws Exception {
        String base = a[0], ts = a[1];
        for (String line : Files.readAllLines(Path.of(a[2]), StandardCharsets.UTF_8)) {
            if (line.startsWith("#") || line.isBlank()) continue;
            String[] f = (line + "\t\t\t").split("\t", -1);
            StringBuilder q = new StringBuilder();
            String[][] params = {{"click_id", "c-1"}, {"device_ip", f[1]}, {"device_ua", f[0]}, {"click_timestamp", ts}, {"google_aid", f[2]}, {"ios_ifa", f[3]}};
            for (String[] p : params) {
                if (p[1].isEmpty()) continue;
                if (q.length() > 0) q.append('&');
                q.append(p[0]).append('=').append(URLEncoder.encode(p[1], StandardCharsets.UTF_8));
            }
            System.out.println("java URLEncoder\t" + base + "?" + q);
        }
    }
}
