namespace DbFirst.Claude;

/// <summary>Claude's answer to one message.</summary>
/// <param name="Text">The text blocks of the response, joined; never empty.</param>
/// <param name="Model">The model that answered, as the API reports it.</param>
/// <param name="InputTokens">Input tokens billed.</param>
/// <param name="OutputTokens">Output tokens billed.</param>
/// <param name="Attempts">Calls it took, the successful one included.</param>
internal sealed record ClaudeReply(string Text, string Model, long InputTokens, long OutputTokens, int Attempts);
