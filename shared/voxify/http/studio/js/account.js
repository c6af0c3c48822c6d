// Sign in and sign up. Tokens are kept by api.js; the shell shows the studio once signed in.

import { signIn, signUp } from "./api.js";
import { field, guarded, h } from "./ui.js";

const input = (id, type, autocomplete) => h("input", { id, name: id, type, autocomplete, required: true });

export function render(main, _signal, done) {
  const email = input("signin-email", "email", "email");
  const password = input("signin-password", "password", "current-password");
  const signInForm = h("form", { onsubmit: guarded(async () => { await signIn(email.value, password.value); done(); }) },
    field("E-mail", email), field("Password", password), h("button", { type: "submit" }, "Sign in"));

  const fields = {
    first_name: input("signup-first", "text", "given-name"),
    last_name: input("signup-last", "text", "family-name"),
    email: input("signup-email", "email", "email"),
    password: input("signup-password", "password", "new-password"),
  };
  const submitSignUp = async () => {
    await signUp(Object.fromEntries(Object.entries(fields).map(([name, control]) => [name, control.value])));
    done();
  };
  const signUpForm = h("form", { onsubmit: guarded(submitSignUp) },
    field("First name", fields.first_name), field("Last name", fields.last_name),
    field("E-mail", fields.email),
    field("Password", fields.password, "At least 10 characters, with letters and digits."),
    h("button", { type: "submit" }, "Create account"));

  main.append(
    h("section", { "aria-labelledby": "signin-title" }, h("h2", { id: "signin-title" }, "Sign in"), signInForm),
    h("section", { "aria-labelledby": "signup-title" }, h("h2", { id: "signup-title" }, "New here? Create an account"),
      signUpForm),
  );
}
