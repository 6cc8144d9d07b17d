// PDFBox 2 peer: one JVM seals every document of a list (lines "input<TAB>output"), `threads` at a time, each as an
// incremental update with a visible signature showing the seal image on page 1, and a detached CMS SignedData
// (SHA-256 with RSA, BouncyCastle) made with the key from a PKCS#12 file. Prints one JSON line with the timing.
//
//   java -cp … PdfboxSeal LIST P12 PASSWORD IMAGE THREADS
import java.io.*;
import java.nio.file.*;
import java.security.*;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.*;
import java.util.concurrent.*;
import java.util.concurrent.atomic.*;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.*;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.visible.*;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.*;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.*;

public class PdfboxSeal {
  static PrivateKey key;
  static Certificate[] chain;
  static byte[] image;
  /** PDFBox logs every step of a visible signature at INFO; kept referenced so the level sticks (JUL holds loggers weakly). */
  static final java.util.logging.Logger PDFBOX_LOG = java.util.logging.Logger.getLogger("org.apache.pdfbox");

  static byte[] sign(InputStream content) throws IOException {
    try {
      CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
      ContentSigner signer = new JcaContentSignerBuilder("SHA256WithRSA").build(key);
      gen.addSignerInfoGenerator(new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().build())
          .build(signer, (X509Certificate) chain[0]));
      gen.addCertificates(new JcaCertStore(Arrays.asList(chain)));
      byte[] data = content.readAllBytes();
      CMSSignedData signed = gen.generate(new CMSProcessableByteArray(data), false);
      return signed.getEncoded();
    } catch (Exception e) {
      throw new IOException(e);
    }
  }

  static void seal(String input, String output) throws Exception {
    try (PDDocument doc = PDDocument.load(new File(input)); OutputStream out = new BufferedOutputStream(new FileOutputStream(output))) {
      PDSignature signature = new PDSignature();
      signature.setFilter(PDSignature.FILTER_ADOBE_PPKLITE);
      signature.setSubFilter(PDSignature.SUBFILTER_ADBE_PKCS7_DETACHED);
      signature.setName("seald bench");
      signature.setSignDate(Calendar.getInstance());
      PDVisibleSignDesigner designer = new PDVisibleSignDesigner(doc, new ByteArrayInputStream(image), 1);
      designer.xAxis(400).yAxis(designer.getPageHeight() - 90 - 119).width(119).height(119);
      PDVisibleSigProperties properties = new PDVisibleSigProperties();
      properties.signerName("seald bench").page(1).visualSignEnabled(true).setPdVisibleSignature(designer);
      properties.buildSignature();
      SignatureOptions options = new SignatureOptions();
      options.setVisualSignature(properties.getVisibleSignature());
      options.setPage(0);
      options.setPreferredSignatureSize(16384);
      doc.addSignature(signature, PdfboxSeal::sign, options);
      doc.saveIncremental(out);
      options.close();
    }
  }

  public static void main(String[] args) throws Exception {
    PDFBOX_LOG.setLevel(java.util.logging.Level.WARNING);
    List<String[]> items = new ArrayList<>();
    for (String line : Files.readAllLines(Paths.get(args[0]))) if (!line.isEmpty()) items.add(line.split("\t"));
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(args[1])) { store.load(in, args[2].toCharArray()); }
    String alias = store.aliases().nextElement();
    key = (PrivateKey) store.getKey(alias, args[2].toCharArray());
    chain = store.getCertificateChain(alias);
    image = Files.readAllBytes(Paths.get(args[3]));
    int threads = Integer.parseInt(args[4]);
    AtomicInteger failures = new AtomicInteger();
    AtomicLong bytes = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long started = System.nanoTime();
    List<Future<?>> done = new ArrayList<>();
    for (String[] item : items) {
      done.add(pool.submit(() -> {
        try {
          seal(item[0], item[1]);
          bytes.addAndGet(new File(item[0]).length());
        } catch (Exception e) {
          if (failures.getAndIncrement() < 3) System.err.println("FAILED " + item[0] + ": " + e);
        }
      }));
    }
    for (Future<?> f : done) f.get();
    double seconds = (System.nanoTime() - started) / 1e9;
    pool.shutdown();
    System.out.println("{\"docs\":" + items.size() + ",\"bytes\":" + bytes.get() + ",\"seconds\":" + seconds + ",\"failures\":" + failures.get() + "}");
  }
}
