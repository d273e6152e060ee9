// Starts a real Solr 9 node (upstream's own JettySolrRunner) on 127.0.0.1.
// Run with the JDK single-file launcher, no javac step:
//   java -cp "<solr-lib>/*" SolrLauncher.java <solr-home> <port>
// Prints "SOLR_READY <port>" once every core has loaded; SIGTERM stops Jetty cleanly.
import java.util.Properties;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;

public class SolrLauncher {
  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: SolrLauncher <solr-home> <port>");
      System.exit(2);
    }
    JettyConfig config = JettyConfig.builder()
        .setPort(Integer.parseInt(args[1]))
        .setContext("/solr")
        .stopAtShutdown(true)
        .withPortRetryTime(0)
        .build();
    JettySolrRunner runner = new JettySolrRunner(args[0], new Properties(), config);
    runner.start();
    System.out.println("SOLR_READY " + runner.getLocalPort());
    System.out.flush();
    Thread.currentThread().join();
  }
}
