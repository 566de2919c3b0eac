// Starts `score lsp` for .score files and restarts it on demand or when
// the `score.server.*` settings change.
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;

function serverOptions(): ServerOptions {
  const config = vscode.workspace.getConfiguration("score.server");
  const command = config.get<string>("path") || "score";
  const extraEnv = config.get<Record<string, string>>("extraEnv") || {};
  return {
    command,
    args: ["lsp"],
    transport: TransportKind.stdio,
    options: { env: { ...process.env, ...extraEnv } },
  };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: "score" }],
    synchronize: {
      // Imports are read from disk: re-check when .score files change.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.score"),
    },
  };
  client = new LanguageClient("score", "Score language server", serverOptions(), clientOptions);
  try {
    await client.start();
  } catch (error) {
    const path = vscode.workspace.getConfiguration("score.server").get<string>("path");
    void vscode.window.showErrorMessage(
      `Could not start the Score language server (\`${path} lsp\`): ${error}. ` +
        "Install `score` on your PATH or set `score.server.path`.",
    );
  }
  context.subscriptions.push({ dispose: () => void client?.stop() });
}

async function restart(context: vscode.ExtensionContext): Promise<void> {
  if (client) {
    await client.stop();
    client = undefined;
  }
  await start(context);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("score.restartServer", () => restart(context)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("score.server")) {
        void restart(context);
      }
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
  }
}
