// mutool run bench/peers/mutool-seal.js P12 PASSWORD IMAGE IN1 OUT1 [IN2 OUT2 …]
// One mutool process seals every document: a new signature field (a widget on page 1, where seald puts its seal),
// signed with the seal image as appearance, saved as an incremental update. mupdf 1.21's JavaScript API signs
// existing fields only, so the field is added through the object API first, before the page is loaded.
var signer = new PDFPKCS7Signer(scriptArgs[0], scriptArgs[1]);
var image = new Image(scriptArgs[2]);
var failures = 0;
for (var i = 3; i + 1 < scriptArgs.length; i += 2) {
  try {
    var doc = new PDFDocument(scriptArgs[i]);
    var page = doc.findPage(0);
    var field = doc.addObject(doc.newDictionary());
    field.Type = doc.newName('Annot');
    field.Subtype = doc.newName('Widget');
    field.FT = doc.newName('Sig');
    field.T = doc.newString('Seal');
    field.Rect = doc.newArray();
    [400, 90, 519, 209].forEach(function (v) { field.Rect.push(v); });
    field.F = 132; // Print | Locked
    field.P = page;
    if (!page.Annots) page.Annots = doc.newArray();
    page.Annots.push(field);
    var root = doc.getTrailer().Root;
    if (!root.AcroForm) root.AcroForm = doc.addObject(doc.newDictionary());
    if (!root.AcroForm.Fields) root.AcroForm.Fields = doc.newArray();
    root.AcroForm.Fields.push(field);
    root.AcroForm.SigFlags = 3;
    var widgets = doc.loadPage(0).getWidgets();
    widgets[widgets.length - 1].sign(signer, { showLabels: false, showDN: false, showDate: false, showTextName: false, showGraphicName: false, showLogo: false }, image);
    doc.save(scriptArgs[i + 1], 'incremental');
  } catch (error) {
    failures++;
    print('FAILED ' + scriptArgs[i] + ': ' + error);
  }
  // MuJS does not see the native memory a document holds (the 53 MB scan among them): without a collection per
  // document a long list grows to gigabytes and slows down. A batch script written for mutool would do this.
  doc = page = field = root = widgets = undefined;
  gc(0);
}
print('{"failures":' + failures + '}');
