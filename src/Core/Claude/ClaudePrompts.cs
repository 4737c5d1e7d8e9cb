namespace DbFirst.Claude;

/// <summary>The words DbFirst sends with images; kept together so a change to them is one reviewable diff.</summary>
internal static class ClaudePrompts
{
    public const string Describe =
        "Describe this photo for a searchable image gallery in two to four plain sentences: the main subject, the " +
        "setting, notable objects and colours, and any legible text. Describe only what is visible; do not guess names.";

    public const string AskIntroduction =
        "A search of an image gallery returned the images below for the question that follows them. Each image is " +
        "preceded by its number and gallery id, and by a description stored earlier when one exists.";

    public const string AskInstructions =
        "Answer the question using only what the images show. Refer to images by their number (\"image 2\"). If the " +
        "images do not answer the question, say so.";
}
